using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// The real service as its own process (<c>dotnet TrackerService.dll</c>, built beside the tests), working in a
/// temporary folder with its SQLite store and spill there, on free loopback ports. Signals are real signals.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    /// <summary>Set for every test process: tests post without a write key unless they are about keys.</summary>
    public const string AllowAnonymous = "Tracker__Auth__AllowAnonymous";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process, string folder, Uri api, Uri admin)
    {
        _process = process;
        Folder = folder;
        Client = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(30) };
        Admin = new HttpClient { BaseAddress = admin, Timeout = TimeSpan.FromSeconds(5) };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Folder { get; }

    /// <summary>The service's process id, for reading its memory from <c>/proc</c>.</summary>
    public int ProcessId => _process.Id;

    public string DatabasePath => Path.Combine(Folder, "data", "events.db");

    public string SpillFolder => Path.Combine(Folder, "data", "spill");

    public HttpClient Client { get; }

    public HttpClient Admin { get; }

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Runs the service in <paramref name="folder"/> when it is expected not to start: waits for it to exit (killing
    /// it and failing the test if it is still running after <paramref name="timeout"/>).
    /// </summary>
    /// <returns>Its exit code and the non-empty lines it wrote to stdout and stderr.</returns>
    public static async Task<(int ExitCode, string[] Lines)> RunToExitAsync(string folder, TimeSpan timeout, IReadOnlyDictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Tracker__AdminUrl"] = "http://127.0.0.1:0",
            [AllowAnonymous] = "true", // Production needs write keys; a test about them overrides this
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var (exitCode, output, errors) = await Shell.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "TrackerService.dll")], folder, timeout, environment);
        return (exitCode, (output + errors).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>
    /// A copy of the service in <paramref name="folder"/> whose <c>appsettings.json</c> is <paramref name="appsettings"/>,
    /// for a test that changes it while the service runs: the service reads its settings files from beside its dll.
    /// The dll and its two manifests are copied (the runtime takes a dll's folder as the app's, through symlinks);
    /// everything else is a symlink to the build.
    /// </summary>
    /// <returns>The folder, to pass to <see cref="StartAsync"/> as its app.</returns>
    public static string CopyApp(string folder, string appsettings)
    {
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.EnumerateFileSystemEntries(AppContext.BaseDirectory))
        {
            var name = Path.GetFileName(file);
            var target = Path.Combine(folder, name);
            if (name is "TrackerService.dll" or "TrackerService.deps.json" or "TrackerService.runtimeconfig.json")
            {
                File.Copy(file, target);
            }
            else if (name != "appsettings.json")
            {
                File.CreateSymbolicLink(target, file);
            }
        }

        File.WriteAllText(Path.Combine(folder, "appsettings.json"), appsettings);
        return folder;
    }

    /// <summary>Starts the service in <paramref name="folder"/> and waits until it is ready.</summary>
    /// <param name="app">The folder of the service's dll (<see cref="CopyApp"/>); by default the build beside the tests.</param>
    public static async Task<ServiceProcess> StartAsync(string folder, IReadOnlyDictionary<string, string>? settings = null, string? app = null)
    {
        var api = new Uri($"http://127.0.0.1:{FreePort()}");
        var admin = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet", [Path.Combine(app ?? AppContext.BaseDirectory, "TrackerService.dll")])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_URLS"] = api.ToString();
        start.Environment["Tracker__AdminUrl"] = admin.ToString();
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment[AllowAnonymous] = "true"; // Production needs write keys; a test about them overrides this
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var service = new ServiceProcess(Process.Start(start)!, folder, api, admin);
        var ready = await Eventually.TrueAsync(service.IsReadyAsync, TimeSpan.FromSeconds(30));
        if (!ready || service._process.HasExited)
        {
            await service.DisposeAsync();
            throw new InvalidOperationException($"The service did not become ready. Output:\n{service.Output}");
        }

        return service;
    }

    /// <summary>Sends a real SIGTERM, as an orchestrator does, and waits for the process to exit.</summary>
    /// <returns>The exit code and the time from the signal to the exit.</returns>
    public async Task<(int ExitCode, TimeSpan Elapsed)> TerminateAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The service did not exit within {timeout} of SIGTERM. Output:\n{Output}");
        }

        return (_process.ExitCode, clock.Elapsed);
    }

    /// <summary>
    /// Sends SIGKILL, as the OOM killer or a lost node does: no drain, no spill, nothing the service can do about it.
    /// Waits for the process to be gone.
    /// </summary>
    public void Kill()
    {
        _process.Kill(); // SIGKILL on Unix
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException($"The service was still running 10 s after SIGKILL. Output:\n{Output}");
        }
    }

    /// <summary>Waits for the process to exit on its own.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The service did not exit within {timeout}. Output:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Lines of every spill segment in the folder (one event per line).</summary>
    public int CountSpilledEvents() => StoreReader.CountSpilledEvents(SpillFolder);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Client.Dispose();
        Admin.Dispose();
    }

    /// <summary>A loopback port nobody listens on now (the OS's pick).</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<bool> IsReadyAsync()
    {
        if (_process.HasExited)
        {
            return true; // stop waiting; the caller's check below reports it
        }

        try
        {
            using var response = await Admin.GetAsync("/healthz/ready");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
