using System.Collections.Concurrent;
using System.Net;
using Microsoft.Data.Sqlite;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Lifecycle;

/// <summary>
/// The shutdown guarantee, on the real service process with real signals: every event that got a 202 ends
/// up stored, or spilled and then stored after a restart, and the process exits within its deadline.
/// </summary>
[Collection(TrackerService.Tests.Telemetry.RunsAlone.Name)] // deadlines measured on a real process: not beside the other tests' load
public sealed class GracefulShutdownTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-process-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task StoresEveryAcceptedEventAndExitsZeroWhenTheStoreIsHealthy()
    {
        // Given a running service that has accepted 3,000 events
        await using var service = await ServiceProcess.StartAsync(_folder);
        var accepted = await PostAsync(service.Client, "healthy", requests: 30, size: 100);

        // When it is sent SIGTERM
        var (exitCode, _) = await service.TerminateAsync(TimeSpan.FromSeconds(30));

        // Then it exits 0 with every accepted event stored and nothing spilled
        Assert.Equal(0, exitCode);
        Assert.Equal(3_000, accepted);
        Assert.Equal(accepted, await StoreReader.CountAsync(service.DatabasePath));
        Assert.Equal(0, service.CountSpilledEvents());
        Assert.Contains("Shutdown complete (drained)", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SpillsWithinTheDeadlineWhenTheStoreIsLockedAndStoresEverythingOnceAfterRestart()
    {
        // Given a service with a 3 s shutdown budget whose store another connection holds locked
        var settings = new Dictionary<string, string> { ["Tracker__Shutdown__Timeout"] = "00:00:03" };
        var first = await ServiceProcess.StartAsync(_folder, settings);
        long accepted;
        await using (first)
        {
            await using var locker = await StoreReader.LockAsync(first.DatabasePath);
            accepted = await PostAsync(first.Client, "locked", requests: 50, size: 100);

            // When it is sent SIGTERM
            var (exitCode, elapsed) = await first.TerminateAsync(TimeSpan.FromSeconds(30));

            // Then it exits 0 within the deadline + 1 s, and stored + spilled == accepted
            Assert.Equal(0, exitCode);
            Assert.True(elapsed < TimeSpan.FromSeconds(4), $"exit took {elapsed.TotalSeconds:F2} s; the limit is 4 s");
            Assert.Equal(5_000, accepted);
            Assert.Equal(accepted, await StoreReader.CountAsync(first.DatabasePath) + first.CountSpilledEvents());
            Assert.Contains("Shutdown complete (deadline reached)", first.Output, StringComparison.Ordinal);
            Assert.Contains($"spilled {first.CountSpilledEvents()}, elapsed", first.Output, StringComparison.Ordinal);
        }

        // When the lock is gone and the service starts again
        await using var second = await ServiceProcess.StartAsync(_folder, settings);

        // Then every accepted event is stored exactly once and the spill is empty
        await StoreReader.WaitForCountAsync(second.DatabasePath, accepted, TimeSpan.FromSeconds(20));
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(second.CountSpilledEvents() == 0), Patience.Default));
        Assert.Equal(accepted, await StoreReader.CountAsync(second.DatabasePath, "message_id LIKE 'locked-%'"));
        Assert.Empty(Directory.GetFiles(second.SpillFolder, "*.jsonl"));
    }

    [Fact]
    public async Task EndsTheDrainEarlyEnoughToSpillAFullQueueBeforeTheDeadline()
    {
        // Given a service with a 2 s shutdown budget, its store locked and its queue full (100,000 events, about
        // 30 MB: more than half a second of spilling at the planned rate, so a spill started at the deadline would end
        // past it; the byte bound raised so that the count binds)
        var settings = new Dictionary<string, string>
        {
            ["Tracker__Shutdown__Timeout"] = "00:00:02",
            ["Tracker__Queue__Capacity"] = "100000",
            ["Tracker__Queue__MaxBytes"] = "67108864",
        };
        await using var service = await ServiceProcess.StartAsync(_folder, settings);
        await using var locker = await StoreReader.LockAsync(service.DatabasePath);
        var accepted = await PostAsync(service.Client, "full", requests: 1_000, size: 100, stopOnRefusal: true);

        // When it is sent SIGTERM
        var (exitCode, elapsed) = await service.TerminateAsync(TimeSpan.FromSeconds(30));

        // Then the drain gave way to the spill in time (not at the deadline): exit 0 within the budget, every
        // accepted event in a complete segment, no segment cut short, no forced exit
        Assert.Equal(0, exitCode);
        Assert.True(accepted >= 90_000, $"only {accepted} events accepted");
        Assert.True(elapsed < TimeSpan.FromSeconds(2), $"exit took {elapsed.TotalSeconds:F2} s; the budget is 2 s");
        Assert.Contains("Ending the drain", service.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Teardown outlasted", service.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(service.SpillFolder, "*.partial"));
        Assert.Equal(accepted, await StoreReader.CountAsync(service.DatabasePath) + service.CountSpilledEvents());
    }

    [Fact]
    public async Task StoresExactlyTheAcceptedEventsWhenSignalledWhileClientsArePosting()
    {
        // Given 8 clients posting as fast as they can
        var service = await ServiceProcess.StartAsync(_folder);
        var accepted = new ConcurrentBag<string>();
        await using (service)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var clients = Enumerable.Range(0, 8).Select(c => Task.Run(() => Clients.PostUntilRefusedAsync(service.Client, $"load-{c}", accepted, stop.Token))).ToArray();
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(accepted.Count >= 5_000), TimeSpan.FromSeconds(30)), "the clients did not get going");

            // When the service is sent SIGTERM in the middle of it
            var (exitCode, _) = await service.TerminateAsync(TimeSpan.FromSeconds(30));
            await Task.WhenAll(clients);

            // Then it exits 0, and every event that got a 202 is stored or spilled (a clean drain spills nothing)
            Assert.Equal(0, exitCode);
            Assert.Equal(accepted.Count, await StoreReader.CountAsync(service.DatabasePath) + service.CountSpilledEvents());
        }

        // And after a restart (replaying any spill), the store holds exactly the accepted events
        await using var again = await ServiceProcess.StartAsync(_folder);
        await StoreReader.WaitForCountAsync(again.DatabasePath, accepted.Count, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task StopsWithAFailureExitCodeAndLosesNothingWhenTheStoreBreaks()
    {
        // Given a running service
        var first = await ServiceProcess.StartAsync(_folder);
        long accepted;
        await using (first)
        {
            await PostAsync(first.Client, "before", requests: 1, size: 10);
            await StoreReader.WaitForCountAsync(first.DatabasePath, 10);

            // When its table disappears (a failure no retry can fix) and more events arrive
            await using (var connection = new SqliteConnection($"Data Source={first.DatabasePath};Pooling=False"))
            {
                await connection.OpenAsync();
                await using var drop = connection.CreateCommand();
                drop.CommandText = "DROP TABLE events";
                await drop.ExecuteNonQueryAsync();
            }

            accepted = await PostAsync(first.Client, "after", requests: 5, size: 100, stopOnRefusal: true);

            // Then the service stops by itself with exit code 1 and spills what it could not store
            Assert.Equal(1, await first.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(accepted, first.CountSpilledEvents());
            Assert.Contains("failed; stopping the service", first.Output, StringComparison.Ordinal);
        }

        // And a restart recreates the table and stores every accepted event
        Assert.True(accepted > 0);
        await using var second = await ServiceProcess.StartAsync(_folder);
        await StoreReader.WaitForCountAsync(second.DatabasePath, accepted, TimeSpan.FromSeconds(20));
    }

    /// <summary>Posts <paramref name="requests"/> batches one after another; returns the number of events answered 202.</summary>
    private static async Task<long> PostAsync(HttpClient client, string prefix, int requests, int size, bool stopOnRefusal = false)
    {
        long accepted = 0;
        for (var r = 0; r < requests; r++)
        {
            try
            {
                using var response = await client.PostAsync("/events", Bodies.Json(Bodies.Batch(size, $"{prefix}-{r}")));
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    accepted += size;
                }
                else if (stopOnRefusal)
                {
                    break;
                }
                else
                {
                    Assert.Fail($"request {r}: {(int)response.StatusCode}");
                }
            }
            catch (HttpRequestException) when (stopOnRefusal)
            {
                break; // the service has stopped taking requests
            }
        }

        return accepted;
    }
}
