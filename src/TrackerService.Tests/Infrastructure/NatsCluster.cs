using System.Text.Json;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// A real JetStream cluster of <c>nats-server</c> processes (three by default) on loopback, for the scale-out tests:
/// free ports, a store folder per node, one cluster name. <see cref="StartAsync"/> returns once the cluster has a meta
/// leader that sees every peer as current. Nodes are killed, stopped and restarted one by one (<see cref="Node"/>);
/// disposing kills them all and deletes their stores. A machine without <c>nats-server</c> fails the test: CI installs it.
/// </summary>
internal sealed class NatsCluster : IAsyncDisposable
{
    public const string Install = "apt-get install nats-server";

    /// <summary>
    /// The bound on waiting for an election or a node's catching up, by default: a Raft election in nats-server 2.9
    /// takes several seconds on an idle machine (randomised timeouts), and a loaded two-core one can double that.
    /// </summary>
    public static readonly TimeSpan ElectionPatience = 2 * Patience.Default;

    private readonly string _folder;

    private NatsCluster(string folder, string name, IReadOnlyList<NatsNode> nodes)
    {
        _folder = folder;
        Name = name;
        Nodes = nodes;
    }

    /// <summary>The cluster's name (<c>cluster.name</c>), unique per fixture.</summary>
    public string Name { get; }

    public IReadOnlyList<NatsNode> Nodes { get; }

    /// <summary>Every node's client URL, comma-separated: the seeds for <c>Tracker:JetStream:Url</c> or <c>NatsOpts.Url</c>.</summary>
    public string ClientUrls => string.Join(',', Nodes.Select(n => n.ClientUrl));

    /// <summary>Every node's log, labelled, for a failing test's message.</summary>
    public string Output => string.Join("\n", Nodes.Select(n => $"=== {n.Name} ===\n{n.Output}"));

    /// <summary>Starts <paramref name="size"/> nodes and waits until they have formed the cluster.</summary>
    public static async Task<NatsCluster> StartAsync(int size = 3)
    {
        var executable = Shell.FindServer("nats-server")
            ?? throw new InvalidOperationException($"nats-server is not installed: `{Install}` (Debian; .ci/run installs it).");
        var folder = Directory.CreateTempSubdirectory("tracker-nats-").FullName;
        var ports = FreePorts.Take(3 * size);
        var nodes = Enumerable.Range(0, size)
            .Select(i => new NatsNode(executable, folder, $"n{i + 1}", ports[3 * i], ports[(3 * i) + 1], ports[(3 * i) + 2]))
            .ToList();
        var cluster = new NatsCluster(folder, $"tracker-{Path.GetFileName(folder)}", nodes);
        try
        {
            nodes.ForEach(n => n.Configure(cluster.Name, nodes));
            await Task.WhenAll(nodes.Select(n => n.StartAsync()));
            await cluster.WaitForMetaLeaderAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The node at <paramref name="index"/> (0-based), named <c>n{index + 1}</c>.</summary>
    public NatsNode Node(int index) => Nodes[index];

    /// <summary>
    /// Waits until every running node is healthy (<c>/healthz</c>: in contact with the meta leader, its streams current)
    /// and names the same running meta leader, and that leader sees every other running node as a current peer.
    /// After a kill the remaining majority qualifies; after a restart, the node must have caught up.
    /// </summary>
    /// <returns>The meta leader.</returns>
    public async Task<NatsNode> WaitForMetaLeaderAsync(TimeSpan? timeout = null)
    {
        NatsNode? leader = null;
        var seen = "nothing yet";
        var formed = await Eventually.TrueAsync(async () =>
        {
            (leader, seen) = await MetaLeaderAsync();
            return leader is not null;
        }, timeout ?? ElectionPatience);
        return formed ? leader! : throw new TimeoutException($"The NATS cluster did not form: {seen}.\n{Output}");
    }

    /// <summary>
    /// Which node leads <paramref name="stream"/>'s Raft group, from <c>/jsz?streams=true</c>: the running node that
    /// names itself as the stream's leader. Waits for one, so right after a kill it returns the newly elected leader.
    /// </summary>
    public async Task<NatsNode> StreamLeaderAsync(string stream, TimeSpan? timeout = null)
    {
        NatsNode? leader = null;
        var seen = new Dictionary<string, string>();
        var found = await Eventually.TrueAsync(async () =>
        {
            foreach (var node in Nodes.Where(n => n.IsRunning))
            {
                var named = StreamLeaderSeenBy(await node.GetAsync("jsz?streams=true"), stream);
                seen[node.Name] = named ?? "(no leader)";
                if (named == node.Name)
                {
                    leader = node;
                    return true;
                }
            }

            return false;
        }, timeout ?? ElectionPatience);
        return found ? leader! : throw new TimeoutException(
            $"Stream {stream} had no leader: {string.Join(", ", seen.Select(s => $"{s.Key} says {s.Value}"))}.\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            node.Kill();
            node.Dispose();
        }

        await Task.Run(() => Directory.Delete(_folder, recursive: true));
    }

    private async Task<(NatsNode? Leader, string Seen)> MetaLeaderAsync()
    {
        var running = Nodes.Where(n => n.IsRunning).ToList();
        var views = new Dictionary<NatsNode, JsonElement?>();
        foreach (var node in running)
        {
            var health = await node.GetAsync("healthz");
            if (health is not { } answer || answer.GetProperty("status").GetString() != "ok")
            {
                return (null, $"{node.Name} is not healthy: {health?.ToString() ?? "no answer"}");
            }

            views[node] = await node.GetAsync("jsz");
        }

        var names = views.Values.Select(v => Meta(v)?.TryGetProperty("leader", out var l) == true ? l.GetString() : null).Distinct().ToList();
        if (names is not [{ } name] || running.FirstOrDefault(n => n.Name == name) is not { } leader)
        {
            return (null, $"meta leaders named: [{string.Join(", ", names)}]");
        }

        // Only the leader lists the peers' state; a restarted node is current once it has caught up with the log.
        var current = Meta(views[leader])?.TryGetProperty("replicas", out var replicas) == true
            ? replicas.EnumerateArray().Where(r => r.GetProperty("current").GetBoolean()).Select(r => r.GetProperty("name").GetString()).ToHashSet()
            : [];
        var behind = running.Where(n => n != leader && !current.Contains(n.Name)).Select(n => n.Name).ToList();
        return behind.Count == 0 ? (leader, "formed") : (null, $"leader {name} does not see {string.Join(", ", behind)} as current");
    }

    private static JsonElement? Meta(JsonElement? jsz) =>
        jsz is { } j && j.TryGetProperty("meta_cluster", out var meta) ? meta : null;

    private static string? StreamLeaderSeenBy(JsonElement? jsz, string stream)
    {
        if (jsz is not { } j || !j.TryGetProperty("account_details", out var accounts))
        {
            return null;
        }

        return accounts.EnumerateArray()
            .SelectMany(a => a.TryGetProperty("stream_detail", out var streams) ? streams.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Where(s => s.GetProperty("name").GetString() == stream && s.TryGetProperty("cluster", out _))
            .Select(s => s.GetProperty("cluster").TryGetProperty("leader", out var l) ? l.GetString() : null)
            .FirstOrDefault(l => !string.IsNullOrEmpty(l));
    }
}
