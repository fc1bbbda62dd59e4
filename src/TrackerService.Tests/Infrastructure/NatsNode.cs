using System.Globalization;
using System.Net;
using System.Text.Json;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// One <c>nats-server</c> of a <see cref="NatsCluster"/>: its name, its three loopback ports (clients, cluster routes,
/// monitoring), its config file and its JetStream store, all kept across a <see cref="Kill"/> or <see cref="Stop"/> and
/// the next <see cref="StartAsync"/>, as a restarted machine keeps its disk and address.
/// </summary>
internal sealed class NatsNode : IDisposable
{
    private static readonly HttpClient Monitoring = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly string _executable;
    private readonly string _config;
    private readonly List<string> _earlierRuns = [];
    private ServerProcess? _process;

    internal NatsNode(string executable, string folder, string name, int clientPort, int routePort, int monitorPort)
    {
        _executable = executable;
        Name = name;
        ClientPort = clientPort;
        RoutePort = routePort;
        MonitorPort = monitorPort;
        StoreDirectory = Path.Combine(folder, name);
        _config = Path.Combine(folder, $"{name}.conf");
    }

    /// <summary>The server's name (<c>server_name</c>), as the monitoring endpoints name leaders and peers.</summary>
    public string Name { get; }

    public int ClientPort { get; }

    public int RoutePort { get; }

    public int MonitorPort { get; }

    /// <summary><c>nats://127.0.0.1:port</c>.</summary>
    public string ClientUrl => $"nats://127.0.0.1:{ClientPort}";

    /// <summary>The monitoring endpoint (<c>/varz</c>, <c>/jsz</c>, <c>/healthz</c>).</summary>
    public Uri Monitor => new($"http://127.0.0.1:{MonitorPort}/");

    /// <summary>The JetStream store (<c>store_dir</c>), which outlives the process.</summary>
    public string StoreDirectory { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Every run's log, oldest first.</summary>
    public string Output => string.Join("\n--- restarted ---\n", [.. _earlierRuns, _process?.Output ?? ""]);

    /// <summary>
    /// Starts the server on its store (again, after a kill or a stop) and waits until its monitoring endpoint answers.
    /// That it has rejoined the cluster is <see cref="NatsCluster.WaitForMetaLeaderAsync"/>'s to wait for.
    /// </summary>
    public async Task StartAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"{Name} is already running");
        }

        if (_process is not null)
        {
            _earlierRuns.Add(_process.Output);
            _process.Dispose();
        }

        _process = new ServerProcess(_executable, ["-c", _config], Path.GetDirectoryName(_config)!);
        var answering = await Eventually.TrueAsync(async () => !IsRunning || await GetAsync("varz") is not null, Patience.Default);
        if (!answering || !IsRunning)
        {
            throw new InvalidOperationException($"nats-server {Name} did not start. Output:\n{Output}");
        }
    }

    /// <summary>SIGKILL, as a lost machine: no goodbye to its peers. Waits for the process to be gone.</summary>
    public void Kill() => _process?.Kill();

    /// <summary>SIGTERM: the server shuts down cleanly. Waits for the process to exit.</summary>
    public void Stop()
    {
        if (_process is { HasExited: false } process)
        {
            process.Signal("TERM");
            process.WaitForExit(Patience.Default, "SIGTERM");
        }
    }

    /// <summary>A monitoring endpoint's JSON (e.g. <c>jsz?streams=true</c>), or null while the server does not answer.</summary>
    public async Task<JsonElement?> GetAsync(string endpoint)
    {
        try
        {
            using var response = await Monitoring.GetAsync(new Uri(Monitor, endpoint));
            if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable))
            {
                return null;
            }

            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return json.RootElement.Clone();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null; // not up (yet), or killed
        }
    }

    public void Dispose() => _process?.Dispose();

    /// <summary>Writes the config file: every other node's route is a seed, so any two of them can form the cluster.</summary>
    internal void Configure(string cluster, IEnumerable<NatsNode> peers)
    {
        var routes = string.Join(", ", peers.Where(p => p != this).Select(p => $"nats-route://127.0.0.1:{p.RoutePort}"));
        File.WriteAllText(_config, string.Create(CultureInfo.InvariantCulture, $$"""
            server_name: {{Name}}
            listen: 127.0.0.1:{{ClientPort}}
            http: 127.0.0.1:{{MonitorPort}}
            jetstream {
              store_dir: "{{StoreDirectory}}"
            }
            cluster {
              name: {{cluster}}
              listen: 127.0.0.1:{{RoutePort}}
              routes: [{{routes}}]
            }
            """));
    }
}
