using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TrackerService.Lifecycle;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>The store goes away mid-stream (its container is paused): the service keeps taking events, then stores each once.</summary>
[Collection(PostgresDatabase.Name)]
public sealed class PostgresOutageTests(PostgresFixture postgres)
{
    [SkippableFact]
    public async Task KeepsAcceptingThroughAnOutageAndThenStoresEveryAcceptedEventOnce()
    {
        // Given the service on PostgreSQL with a small queue, short timeouts and a quick circuit
        var connectionString = await postgres.CreateDatabaseAsync();
        using var app = new TrackerApplication(QuickOutage.With(new()
        {
            ["Tracker:Sink:Kind"] = "Postgres",
            ["ConnectionStrings:Postgres"] = connectionString + ";Timeout=2;Cancellation Timeout=500",
            ["Tracker:Queue:Capacity"] = "500",
            ["Tracker:Api:MaxBatchEvents"] = "100",
            ["Tracker:Delivery:BatchSize"] = "100",
            ["Tracker:Sink:AttemptTimeout"] = "00:00:01",
            ["Tracker:Spill:ReplayInterval"] = "00:00:00.500",
        }));
        using var client = app.CreateClient();
        using var admin = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<AdminListener>().Addresses.Single()) };
        var accepted = 0;
        accepted += await PostAsync(client, "before", 5);

        // When the store freezes while clients keep posting well past the queue's capacity
        await postgres.Container.PauseAsync();
        try
        {
            accepted += await PostAsync(client, "during", 30);

            // Then every request was accepted in the end: six times what the queue holds, so the spill took
            // the rest; and readiness stays up while saying the store is unavailable
            Assert.Equal(3_500, accepted);
            Assert.True(Directory.GetFiles(Path.Combine(app.Folder, "data", "spill"), "*.jsonl").Length > 0, "nothing was spilled");
            // (503 "Unhealthy" while the queue is momentarily full, which a loaded machine can catch: wait past it)
            Assert.True(await Eventually.TrueAsync(async () => await ReadinessAsync(admin) == "Degraded", TimeSpan.FromSeconds(30)));
        }
        finally
        {
            await postgres.Container.UnpauseAsync();
        }

        // And once the store is back, every accepted event is stored, exactly once
        accepted += await PostAsync(client, "after", 5);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        long stored = 0, distinct = 0;
        var all = await Eventually.TrueAsync(async () =>
        {
            await using var count = dataSource.CreateCommand("SELECT count(*), count(DISTINCT message_id) FROM events");
            await using var row = await count.ExecuteReaderAsync();
            await row.ReadAsync();
            (stored, distinct) = (row.GetInt64(0), row.GetInt64(1));
            return stored >= accepted;
        }, TimeSpan.FromSeconds(60));
        Assert.True(all, $"stored {stored} of {accepted}");
        Assert.Equal(accepted, stored);
        Assert.Equal(stored, distinct);
    }

    [SkippableFact]
    public async Task SpillsAtShutdownWhileTheStoreIsDownAndStoresEverythingAfterARestart()
    {
        // Given a service whose store freezes while it holds accepted events
        var connectionString = await postgres.CreateDatabaseAsync();
        var folder = Directory.CreateTempSubdirectory("tracker-outage-").FullName;
        var settings = new Dictionary<string, string?>
        {
            ["Tracker:Sink:Kind"] = "Postgres",
            ["ConnectionStrings:Postgres"] = connectionString + ";Timeout=2;Cancellation Timeout=500",
            ["Tracker:Sink:AttemptTimeout"] = "00:00:30",
            ["Tracker:Shutdown:Timeout"] = "00:00:02",
        };
        var accepted = 0;
        try
        {
            using (var first = new TrackerApplication(settings, folder: folder))
            {
                using var client = first.CreateClient();
                await postgres.Container.PauseAsync();
                try
                {
                    accepted += await PostAsync(client, "down", 10);

                    // When the service stops with the store still down
                    await first.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHost>().StopAsync();
                }
                finally
                {
                    await postgres.Container.UnpauseAsync();
                }

                // Then what it held is in the spill
                Assert.Equal(accepted, StoreReader.CountSpilledEvents(Path.Combine(folder, "data", "spill")));
            }

            // And when the store is back and the service starts again, every event is stored once
            using var second = new TrackerApplication(settings, folder: folder);
            using var _ = second.CreateClient();
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            long stored = 0;
            Assert.True(await Eventually.TrueAsync(async () =>
            {
                await using var count = dataSource.CreateCommand("SELECT count(DISTINCT message_id) FROM events");
                stored = (long)(await count.ExecuteScalarAsync())!;
                return stored == accepted;
            }, TimeSpan.FromSeconds(30)), $"stored {stored} of {accepted}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Posts <paramref name="requests"/> batches of 100 events, retrying a 503 as a client should (after a short
    /// pause); returns how many events were accepted. Each request must be accepted within 30 s.
    /// </summary>
    private static async Task<int> PostAsync(HttpClient client, string prefix, int requests)
    {
        var accepted = 0;
        for (var r = 0; r < requests; r++)
        {
            var sent = await Eventually.TrueAsync(async () =>
            {
                using var response = await client.PostAsync("/events", Bodies.Json(Bodies.Batch(100, $"{prefix}-{r}")));
                Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.ServiceUnavailable, $"{prefix} request {r}: {(int)response.StatusCode}");
                return response.StatusCode == HttpStatusCode.Accepted;
            }, TimeSpan.FromSeconds(30));
            Assert.True(sent, $"{prefix} request {r} was refused for 30 s");
            accepted += 100;
        }

        return accepted;
    }

    private static async Task<string> ReadinessAsync(HttpClient admin)
    {
        using var response = await admin.GetAsync("/healthz/ready");
        return await response.Content.ReadAsStringAsync();
    }
}
