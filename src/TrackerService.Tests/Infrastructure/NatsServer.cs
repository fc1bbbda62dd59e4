using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// A real <c>nats-server -js</c> on free loopback ports (client and monitoring), with its JetStream store in a
/// temporary folder of its own. It can be stopped (SIGTERM), killed (SIGKILL), frozen (SIGSTOP) and started again on
/// the same ports and store, for outage tests. Disposal kills it and deletes the folder. Never skipped: without
/// nats-server the test fails, saying how to install it.
/// </summary>
/// <param name="arguments">More arguments for the server (a cluster's <c>--cluster</c>, <c>--routes</c>, <c>-n</c>), given at every start.</param>
internal sealed class NatsServer(string[] arguments) : IAsyncDisposable
{
    public const string Command = "nats-server";

    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <summary>The client port.</summary>
    public int Port { get; } = ServiceProcess.FreePort();

    /// <summary>The HTTP monitoring port (<c>/healthz</c>, <c>/jsz</c>, <c>/varz</c>).</summary>
    public int MonitorPort { get; } = ServiceProcess.FreePort();

    /// <summary>The folder the server keeps its streams in (<c>-sd</c>), kept across restarts.</summary>
    public string StoreFolder { get; } = Directory.CreateTempSubdirectory("tracker-nats-").FullName;

    /// <summary>The client URL, for <c>Tracker:JetStream:Url</c>.</summary>
    public string Url => $"nats://127.0.0.1:{Port}";

    public Uri MonitorUrl => new($"http://127.0.0.1:{MonitorPort}");

    /// <summary>
    /// The monitoring path that says the server is ready. By default <c>/healthz</c>, which also waits for the streams
    /// it holds to be current; a cluster's node started alone never is, so a cluster starts its nodes with
    /// <c>/healthz?js-enabled-only=true</c> and waits for the quorum itself.
    /// </summary>
    public string HealthCheck { get; init; } = "/healthz";

    /// <summary>The server's process id while it runs.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("nats-server is not running.");

    /// <summary>What the server wrote so far, over all its starts.</summary>
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

    /// <summary>Starts a server and waits until it takes connections and JetStream is up.</summary>
    public static async Task<NatsServer> StartAsync(params string[] arguments)
    {
        var server = new NatsServer(arguments);
        try
        {
            await server.StartAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Starts the server (again, after <see cref="Stop"/> or <see cref="Kill"/>) on the same ports and store, and waits until it is ready.</summary>
    public async Task StartAsync()
    {
        if (!Shell.IsOnPath(Command))
        {
            Assert.Fail($"{Command} is not installed: the JetStream tests need a real server (apt-get install nats-server).");
        }

        var start = new ProcessStartInfo(Command,
            ["-js", "-a", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-m", MonitorPort.ToString(CultureInfo.InvariantCulture), "-sd", StoreFolder, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!await Eventually.TrueAsync(IsReadyAsync, Patience.Default) || _process.HasExited)
        {
            Assert.Fail($"{Command} on port {Port} did not become ready. Output:\n{Output}");
        }
    }

    /// <summary>SIGTERM, as a clean stop of a node: waits for the process to be gone.</summary>
    public void Stop() => Signal("TERM", exits: true);

    /// <summary>SIGKILL, as a lost node: waits for the process to be gone.</summary>
    public void Kill() => Signal("KILL", exits: true);

    /// <summary>
    /// SIGSTOP: the server keeps its sockets open and answers nothing, as a frozen host does. Returns once the kernel
    /// shows every thread of it stopped: kill(2) only queues the signal, and on a loaded machine the server went on
    /// long enough to ack a batch sent right after it.
    /// </summary>
    public void Freeze()
    {
        Signal("STOP", exits: false);
        var threads = $"/proc/{ProcessId}/task";
        var stopped = SpinWait.SpinUntil(() => Directory.GetDirectories(threads).All(IsStopped), TimeSpan.FromSeconds(10));
        if (!stopped)
        {
            throw new TimeoutException($"nats-server {ProcessId} was still running 10 s after SIGSTOP.");
        }
    }

    /// <summary>SIGCONT: a frozen server goes on.</summary>
    public void Thaw() => Signal("CONT", exits: false);

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            Thaw(); // a stopped process takes SIGKILL too, but let it go with nothing pending
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(StoreFolder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless; failing the test for it would not be.
        }
    }

    private void Signal(string signal, bool exits)
    {
        var process = _process ?? throw new InvalidOperationException("nats-server is not running.");
        if (!Shell.Run("kill", $"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)))
        {
            throw new InvalidOperationException($"kill -{signal} {process.Id} failed. Output:\n{Output}");
        }

        if (exits && !process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException($"nats-server was still running 10 s after SIG{signal}. Output:\n{Output}");
        }

        if (exits)
        {
            process.WaitForExit(); // the output readers are done too
            process.Dispose();
            _process = null;
        }
    }

    /// <summary>Whether a thread (<c>/proc/{pid}/task/{tid}</c>) is stopped: state <c>T</c> in its <c>stat</c>, after the command's parentheses.</summary>
    private static bool IsStopped(string thread)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine(thread, "stat"));
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('T');
        }
        catch (IOException)
        {
            return true; // the thread has ended
        }
    }

    /// <summary>Ready when the monitoring port's health check, which covers JetStream, says so.</summary>
    private async Task<bool> IsReadyAsync()
    {
        if (_process is null or { HasExited: true })
        {
            return true; // stop waiting; the caller reports it
        }

        using var client = new HttpClient { BaseAddress = MonitorUrl, Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await client.GetAsync(HealthCheck);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
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
