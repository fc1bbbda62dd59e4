using System.Globalization;
using System.Text.RegularExpressions;
using TrackerService.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TrackerService.Tests.ScaleOut;

/// <summary>
/// The scale-out deployment of docs/scale-out.md, all real processes on loopback: a three-node JetStream cluster with
/// the stream at three replicas, three intake replicas behind nginx, one loader and PostgreSQL (Testcontainers). While
/// clients post, the stream's leader node is killed (SIGKILL), an intake replica is stopped (SIGTERM, as a deploy does)
/// and the loader is restarted. Nothing answered 202 may be lost or stored twice, and the replicas' own counts must
/// reconcile with what PostgreSQL and the spill folders hold.
/// </summary>
[Collection(PostgresDatabase.Name)]
public sealed partial class ClusterFailoverTests(PostgresFixture postgres, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Stream = "TRACKER_EVENTS";

    /// <summary>Events answered 202 between two steps: enough to show that the deployment takes load again.</summary>
    private const int Progress = 1000;

    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-cluster-").FullName;
    private readonly List<IAsyncDisposable> _running = [];
    private NatsCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await NatsCluster.StartAsync(3);

    public async Task DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_running))
        {
            await process.DisposeAsync();
        }

        await _cluster.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [SkippableFact]
    public async Task NothingAcceptedIsLostOrDuplicatedThroughALeaderKillAReplicaStopAndALoaderRestart()
    {
        // Given three intake replicas on the cluster (stream at 3 replicas) behind nginx, and a loader into PostgreSQL
        var database = await postgres.CreateDatabaseAsync();
        var replicas = new List<ServiceProcess>();
        for (var i = 0; i < 3; i++)
        {
            replicas.Add(Track(await ServiceProcess.StartAsync(ReplicaFolder(i), IntakeSettings())));
        }

        var balancer = Track(await NginxBalancer.StartAsync(replicas.Select(r => r.Client.BaseAddress!)));
        var loader = Track(await ServiceProcess.StartAsync(LoaderFolder(), LoaderSettings(database)));
        var leader = await _cluster.StreamLeaderAsync(Stream);
        await using var load = BalancedLoad.Start(balancer.Address);
        await load.WaitForProgressAsync(Progress, "before any failure", Patience.Default);
        await WaitForStoredAsync(database, 1, "before any failure", Patience.Default);

        // When the stream's leader node is killed: the two others elect a new one, the replicas spill meanwhile, and
        // acks resume
        var inStream = await StreamReading.CountAsync(_cluster.ClientUrls);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        leader.Kill();
        var newLeader = await _cluster.StreamLeaderAsync(Stream);
        Assert.NotEqual(leader.Name, newLeader.Name);
        var elected = clock.Elapsed;
        Assert.True(await Eventually.TrueAsync(async () => await StreamReading.CountAsync(_cluster.ClientUrls) >= inStream + Progress, 2 * NatsCluster.ElectionPatience),
            $"the stream did not take publishes again after {leader.Name} (its leader) was killed\n{Diagnostics(replicas, loader)}");
        var resumed = clock.Elapsed;
        await load.WaitForProgressAsync(Progress, $"after {leader.Name} (the stream's leader) was killed", Patience.Default);

        // And an intake replica is sent SIGTERM while clients post through the balancer
        var stopped = replicas[0];
        var (exitCode, _) = await stopped.TerminateAsync(TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, $"the stopped replica exited {exitCode}:\n{stopped.Output}");
        var stoppedAccepted = AcceptedSinceStart(stopped.Output);
        await load.WaitForProgressAsync(Progress, "after an intake replica was stopped", Patience.Default);

        // And the loader is restarted while it is loading
        var storedBeforeRestart = await WaitForStoredAsync(database, await PostgresReader.CountAsync(database) + 1, "before the loader's restart", Patience.Default);
        (exitCode, _) = await loader.TerminateAsync(TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, $"the loader exited {exitCode}:\n{loader.Output}");
        loader = Track(await ServiceProcess.StartAsync(LoaderFolder(), LoaderSettings(database)));
        await WaitForStoredAsync(database, await PostgresReader.CountAsync(database) + 1, "after the loader's restart", Patience.Default);
        await load.WaitForProgressAsync(Progress, "after the loader was restarted", Patience.Default);
        await load.StopAsync();

        // Then the replicas' own counts reconcile with what PostgreSQL and the spill folders hold, once the live
        // replicas have delivered or spilled everything: accepted, summed over the replicas, = stored + spilled. An
        // event is counted once even when it is in both (a publish stored by the stream whose ack was lost in the
        // election was spilled too; the replay's copy is dropped by the stream's duplicate window or the store's key).
        var live = replicas.Skip(1).ToList();
        var accepted = stoppedAccepted + (await Task.WhenAll(live.Select(AcceptedAsync))).Sum();
        Assert.Equal(load.Accepted.Count, accepted); // no request was taken without its client hearing 202
        var (stored, spilled, both) = (0, 0, 0);
        var mostSpilled = 0;
        var reconciled = await Eventually.TrueAsync(async () =>
        {
            var spilledIds = replicas.SelectMany(r => StoreReader.SpilledIds(r.SpillFolder)).ToHashSet(StringComparer.Ordinal);
            var storedIds = await PostgresReader.IdsAsync(database);
            (stored, spilled) = (storedIds.Count, spilledIds.Count);
            both = spilledIds.Count(storedIds.Contains);
            mostSpilled = Math.Max(mostSpilled, spilled);
            return stored + spilled - both == accepted;
        }, 2 * NatsCluster.ElectionPatience);
        Assert.True(reconciled, $"accepted {accepted} (stopped replica {stoppedAccepted}) but stored {stored} + spilled {spilled} - in both {both}\n{Diagnostics(replicas, loader)}");

        output.WriteLine($"accepted {accepted} ({string.Join(", ", load.AcceptedBy().Select(a => $"{a.Key}: {a.Value}"))}), stopped replica {stoppedAccepted}, "
            + $"{load.Failures} requests sent again, stored before the loader's restart {storedBeforeRestart}, in the spill folders at the reconciliation {mostSpilled} ({both} of them stored already) "
            + $"(the stopped replica {stopped.CountSpilledEvents()}), stream leader {leader.Name} killed: {newLeader.Name} elected after "
            + $"{elected.TotalSeconds:F1} s, the stream took {Progress} more after {resumed.TotalSeconds:F1} s");
        var restarted = Track(await ServiceProcess.StartAsync(stopped.Folder, IntakeSettings()));
        var complete = await Eventually.TrueAsync(async () => await PostgresReader.CountAsync(database) >= accepted, NatsCluster.ElectionPatience);
        var ids = await PostgresReader.IdsAsync(database);
        var missing = load.Accepted.Keys.Where(id => !ids.Contains(id)).ToList();
        Assert.True(complete && missing.Count == 0,
            $"{missing.Count} events answered 202 are not in PostgreSQL (e.g. {string.Join(", ", missing.Take(5))})\n{Diagnostics([.. live, restarted], loader)}");
        Assert.Equal(ids.Count, await PostgresReader.CountAsync(database)); // each stored once
        Assert.Empty(ids.Except(load.Sent));
        Assert.Equal(0, restarted.CountSpilledEvents());
        await StreamWriting.WaitForAllAckedAsync(_cluster.ClientUrls);

        // And each step was taken under load: every replica took a share, the stopped one within its deadline, and
        // the loader stored events before its restart and after it
        Assert.All(replicas, r => Assert.True(load.AcceptedBy().GetValueOrDefault(r.Client.BaseAddress!.Authority) > 0, $"{r.Client.BaseAddress} took nothing"));
        Assert.Contains("Shutdown complete", stopped.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// An intake replica: the JetStream sink on every node's URL, the stream at three replicas, a publish that waits 2 s
    /// for its ack (an election takes several), and the quick resilience settings so that an election shows as an outage.
    /// </summary>
    private Dictionary<string, string> IntakeSettings() => WithQuickOutage(new()
    {
        ["Tracker__Sink__Kind"] = "JetStream",
        ["Tracker__JetStream__Url"] = _cluster.ClientUrls,
        ["Tracker__JetStream__Replicas"] = "3",
        ["Tracker__JetStream__PublishTimeout"] = "00:00:02",
        ["Tracker__Shutdown__Timeout"] = "00:00:15",
    });

    private Dictionary<string, string> LoaderSettings(string database) => WithQuickOutage(new()
    {
        ["Tracker__Role"] = "Loader",
        ["Tracker__Sink__Kind"] = "Postgres",
        ["ConnectionStrings__Postgres"] = database,
        ["Tracker__JetStream__Url"] = _cluster.ClientUrls,
        ["Tracker__JetStream__Replicas"] = "3",
        ["Tracker__JetStream__AckWait"] = "00:00:05",
        ["Tracker__Shutdown__Timeout"] = "00:00:15",
    });

    private static Dictionary<string, string> WithQuickOutage(Dictionary<string, string> settings)
    {
        foreach (var (key, value) in QuickOutage.With([]))
        {
            settings[key.Replace(":", "__", StringComparison.Ordinal)] = value!;
        }

        return settings;
    }

    private T Track<T>(T process)
        where T : IAsyncDisposable
    {
        _running.Add(process);
        return process;
    }

    private string ReplicaFolder(int index) => Directory.CreateDirectory(Path.Combine(_folder, $"intake-{index + 1}")).FullName;

    private string LoaderFolder() => Directory.CreateDirectory(Path.Combine(_folder, "loader")).FullName;

    /// <summary>The <c>accepted N since start</c> of a stopped replica's last line: its metrics went with it.</summary>
    private static long AcceptedSinceStart(string output) =>
        ShutdownLine().Match(output) is { Success: true } match
            ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new Xunit.Sdk.XunitException($"no shutdown line with the accepted count:\n{output}");

    private static async Task<long> AcceptedAsync(ServiceProcess replica) =>
        (long)(Prometheus.Sample(await replica.Admin.GetStringAsync("/metrics"), "tracker_events_accepted_total") ?? 0);

    /// <summary>Waits until PostgreSQL holds at least <paramref name="count"/> events: the loader is storing.</summary>
    private async Task<long> WaitForStoredAsync(string database, long count, string during, TimeSpan timeout)
    {
        var stored = 0L;
        var reached = await Eventually.TrueAsync(async () => (stored = await PostgresReader.CountAsync(database)) >= count, timeout);
        Assert.True(reached, $"{during}: PostgreSQL holds {stored} events, not {count} or more, after {timeout.TotalSeconds} s\n{_cluster.Output[^Math.Min(_cluster.Output.Length, 3000)..]}");
        return stored;
    }

    private string Diagnostics(IEnumerable<ServiceProcess> replicas, ServiceProcess loader) =>
        string.Join("\n", replicas.Select(r => $"=== intake {r.Client.BaseAddress} ===\n{Tail(r.Output)}"))
        + $"\n=== loader ===\n{Tail(loader.Output)}\n{_cluster.Output[^Math.Min(_cluster.Output.Length, 4000)..]}";

    private static string Tail(string output) => output[^Math.Min(output.Length, 3000)..];

    [GeneratedRegex(@"Shutdown complete \([a-z ]+\): accepted (\d+) since start")]
    private static partial Regex ShutdownLine();
}
