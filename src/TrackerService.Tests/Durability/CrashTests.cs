using Microsoft.Data.Sqlite;
using TrackerService.Tests.Telemetry;
using Xunit.Abstractions;

namespace TrackerService.Tests.Durability;

/// <summary>
/// kill -9 under load, again and again, on the real service process (issue 15). With <c>Tracker:Durability=Disk</c>
/// a 202 means the events are fsynced in the write-ahead log, so every event answered 202 before a kill is in the
/// store exactly once after a restart. In <c>Memory</c> mode (the default) a kill loses what is queued and in
/// flight: that test measures the loss and asserts only that the harness works. They run alone (after the others):
/// their time bounds hold on an idle two-core machine, and their load would slow the suite's timing-sensitive tests.
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class CrashTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Small delivery batches, flushed often, and two consumers: events are always on their way to the store.</summary>
    private static readonly Dictionary<string, string> Delivery = new()
    {
        ["Tracker__Delivery__BatchSize"] = "50",
        ["Tracker__Delivery__FlushInterval"] = "00:00:00.050",
        ["Tracker__Delivery__Consumers"] = "2",
    };

    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-crash-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>
    /// Fails until <c>Tracker:Durability=Disk</c> exists (issue 15): before, the setting is ignored, the service
    /// runs in Memory mode, and the kills lose events.
    /// </summary>
    [Fact]
    [Trait("Durability", "Disk")] // until issue 15 lands, a run can leave it out: --filter "Durability!=Disk"
    public async Task InDiskModeEveryEventAnswered202BeforeAKillIsStoredExactlyOnceAfterTheRestart()
    {
        // Given the service in Disk mode, started 20 times on the same folder, each time killed with SIGKILL under load
        var rounds = new CrashRounds(_folder, new Dictionary<string, string>(Delivery) { ["Tracker__Durability"] = "Disk" }, output);
        await rounds.RunAsync(20, TimeSpan.FromSeconds(80));

        // When it starts once more and recovers its log
        var outcome = await rounds.RecoverAsync(TimeSpan.FromSeconds(30));
        output.WriteLine(outcome.Summary("disk"));
        output.WriteLine($"lost per round: {outcome.LostPerRound()}");

        // Then the store holds every event answered 202, once, and nothing that was never sent
        Assert.True(outcome.Accepted > 0, "no event was accepted: the harness is broken");
        Assert.True(outcome.Duplicates.Count == 0, $"stored more than once: {string.Join(", ", outcome.Duplicates.Take(20))}");
        Assert.True(outcome.Unsent.Count == 0, $"stored but never sent: {string.Join(", ", outcome.Unsent.Take(20))}");
        Assert.True(
            outcome.Lost.Count == 0,
            $"{outcome.Summary("disk")}; first lost: {string.Join(", ", outcome.Lost.Take(20))}");
    }

    /// <summary>
    /// Documents Memory mode's loss on kill -9 (for the README), without asserting it: it prints
    /// <c>memory mode: lost N of M accepted over K rounds</c>.
    /// </summary>
    [Fact]
    [Trait("Durability", "Memory")]
    public async Task InMemoryModeAKillLosesWhatWasInFlightAndTheTestSaysHowMuch()
    {
        // Given the service with its default settings (Memory mode), started 5 times on the same folder, each time
        // killed under load: the loss a default deployment sees
        var rounds = new CrashRounds(_folder, new Dictionary<string, string>(), output);
        await rounds.RunAsync(5, TimeSpan.FromSeconds(40));

        // When it starts once more (Memory mode has nothing to recover: the loss is final at the kill)
        var outcome = await rounds.RecoverAsync(TimeSpan.Zero);
        output.WriteLine(outcome.Summary("memory"));
        output.WriteLine($"lost per round: {outcome.LostPerRound()}");
        var report = Environment.GetEnvironmentVariable("TRACKER_CRASH_REPORT");
        if (!string.IsNullOrEmpty(report))
        {
            await File.AppendAllTextAsync(report, outcome.Summary("memory") + Environment.NewLine);
        }

        // Then the harness worked: events were accepted, none is stored twice, none stored that was not sent
        Assert.True(outcome.Accepted > 0, "no event was accepted: the harness is broken");
        Assert.True(outcome.Duplicates.Count == 0, $"stored more than once: {string.Join(", ", outcome.Duplicates.Take(20))}");
        Assert.True(outcome.Unsent.Count == 0, $"stored but never sent: {string.Join(", ", outcome.Unsent.Take(20))}");
    }
}
