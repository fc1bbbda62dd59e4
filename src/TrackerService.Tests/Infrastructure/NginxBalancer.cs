using System.Globalization;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// A real nginx on a free loopback port, balancing round-robin over HTTP upstreams (intake replicas) with the proxy rules
/// of the compose deployment (<c>deploy/nginx/tracker-proxy.conf</c>): a request moves to the next upstream only when
/// none got it, and a POST is never sent to a second one. Runs in the foreground (<c>daemon off</c>) with its config,
/// pid, logs and temporary files in a folder of its own, as root or not. <see cref="AddUpstreamAsync"/> and
/// <see cref="RemoveUpstreamAsync"/> reload it. Disposing stops it. A machine without nginx fails the test: CI installs it.
/// </summary>
internal sealed class NginxBalancer : IAsyncDisposable
{
    public const string Install = "apt-get install nginx";

    /// <summary>The response header naming the upstream(s) that took the request, in order: <c>127.0.0.1:A, 127.0.0.1:B</c>.</summary>
    public const string UpstreamHeader = "X-Upstream";

    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly string _executable;
    private readonly string _folder;
    private readonly int _port;
    private readonly int _probePort;
    private readonly int _workers;
    private readonly List<Uri> _upstreams;
    private ServerProcess? _process;
    private int _generation;

    private NginxBalancer(string executable, string folder, IEnumerable<Uri> upstreams, int workers)
    {
        _executable = executable;
        _folder = folder;
        _upstreams = [.. upstreams];
        _workers = workers;
        (_port, _probePort) = FreePorts.Take(2) switch { [var a, var b] => (a, b), _ => throw new InvalidOperationException() };
    }

    /// <summary>The balancer's address: <c>http://127.0.0.1:port/</c>.</summary>
    public Uri Address => new($"http://127.0.0.1:{_port}/");

    public IReadOnlyList<Uri> Upstreams => _upstreams;

    /// <summary>nginx's error log and output, for a failing test's message.</summary>
    public string Log => $"{ReadErrorLog()}\n{_process?.Output}";

    private string ConfigFile => Path.Combine(_folder, "nginx.conf");

    private string ErrorLogFile => Path.Combine(_folder, "error.log");

    /// <summary>Starts nginx in front of <paramref name="upstreams"/> and waits until it answers.</summary>
    /// <param name="workers">nginx's worker processes; one keeps a test's round-robin exact and the machine's cores free.</param>
    public static async Task<NginxBalancer> StartAsync(IEnumerable<Uri> upstreams, int workers = 1)
    {
        var executable = Shell.FindServer("nginx")
            ?? throw new InvalidOperationException($"nginx is not installed: `{Install}` (Debian; .ci/run installs it).");
        var folder = Directory.CreateTempSubdirectory("tracker-nginx-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            // Run as root, nginx's workers are "nobody": they must reach the temporary folders nginx creates in here.
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_001_001);
        }

        var balancer = new NginxBalancer(executable, folder, upstreams, workers);
        try
        {
            balancer.WriteConfig();
            balancer._process = new ServerProcess(executable, ["-p", folder, "-c", balancer.ConfigFile, "-e", balancer.ErrorLogFile, "-g", "daemon off;"], folder);
            await balancer.WaitForGenerationAsync();
            return balancer;
        }
        catch
        {
            await balancer.DisposeAsync();
            throw;
        }
    }

    /// <summary>Adds an upstream and reloads nginx; returns once the new workers answer.</summary>
    public Task AddUpstreamAsync(Uri upstream)
    {
        _upstreams.Add(upstream);
        return ReloadAsync();
    }

    /// <summary>Removes an upstream and reloads nginx: new requests no longer reach it (nginx needs at least one).</summary>
    public Task RemoveUpstreamAsync(Uri upstream)
    {
        if (_upstreams.Count == 1 || !_upstreams.Remove(upstream))
        {
            throw new InvalidOperationException($"{upstream} is not an upstream, or the last one: {string.Join(", ", _upstreams)}");
        }

        return ReloadAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            process.Signal("TERM"); // fast shutdown: the master stops its workers and exits
            await Task.Run(() => process.WaitForExit(TimeSpan.FromSeconds(10), "SIGTERM"));
            process.Dispose();
        }

        Directory.Delete(_folder, recursive: true);
    }

    private async Task ReloadAsync()
    {
        WriteConfig();
        var (status, output, errors) = await Shell.RunAsync(_executable, ["-t", "-p", _folder, "-c", ConfigFile, "-e", ErrorLogFile], _folder, Patience.Default);
        if (status != 0)
        {
            throw new InvalidOperationException($"nginx refused its new config:\n{output}{errors}");
        }

        var oldWorkers = Workers();
        _process!.Signal("HUP"); // new workers with the new config; the old ones finish their requests and exit
        await WaitForGenerationAsync();
        // Until then an old worker still serves the keep-alive connections it has, with the old upstreams.
        if (!await Eventually.TrueAsync(() => Task.FromResult(!Workers().Overlaps(oldWorkers)), Patience.Default))
        {
            throw new InvalidOperationException($"nginx's workers of the previous config did not exit.\n{Log}");
        }
    }

    /// <summary>The master's child processes (its workers), from <c>/proc</c>; none where there is no <c>/proc</c>.</summary>
    private HashSet<string> Workers()
    {
        var children = $"/proc/{_process!.Id}/task/{_process.Id}/children";
        return File.Exists(children) ? [.. File.ReadAllText(children).Split(' ', StringSplitOptions.RemoveEmptyEntries)] : [];
    }

    /// <summary>Waits until a fresh connection reaches a worker running the current config (the probe server says its generation).</summary>
    private async Task WaitForGenerationAsync()
    {
        var expected = _generation.ToString(CultureInfo.InvariantCulture);
        var current = await Eventually.TrueAsync(async () =>
        {
            if (_process!.HasExited)
            {
                return true; // stop waiting; the check below reports it
            }

            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{_probePort}/generation");
                request.Headers.ConnectionClose = true;
                using var response = await Probe.SendAsync(request);
                return await response.Content.ReadAsStringAsync() == expected;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, Patience.Default);
        if (!current || _process!.HasExited)
        {
            throw new InvalidOperationException($"nginx did not come up with config generation {expected}.\n{Log}");
        }
    }

    private void WriteConfig() =>
        File.WriteAllText(ConfigFile, NginxConfig.Render(_folder, _port, _probePort, _workers, _upstreams, ++_generation, ErrorLogFile));

    private string ReadErrorLog()
    {
        try
        {
            return File.ReadAllText(ErrorLogFile);
        }
        catch (IOException)
        {
            return "(no error log)";
        }
    }
}
