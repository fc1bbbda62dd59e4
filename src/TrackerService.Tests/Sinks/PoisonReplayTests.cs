using System.Net;
using Npgsql;
using TrackerService.Events;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>
/// The real service on PostgreSQL, started with a spill segment that holds an event PostgreSQL refuses among 200
/// good ones (what a 202'd poison event left behind): it stores the 200, keeps the poison in the dead-letter
/// table, deletes the segment and stays up, instead of failing the replay every pass, forever.
/// </summary>
[Collection(PostgresDatabase.Name)]
public sealed class PoisonReplayTests(PostgresFixture postgres) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-poison-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [SkippableFact]
    public async Task ReplaysASpillHoldingAPoisonEventStoringTheRestAndKeepingThePoison()
    {
        // Given a spill segment, in today's line format, of 200 good events and one whose number jsonb can't hold
        var connectionString = await postgres.CreateDatabaseAsync();
        var good = TrackedEvents.Many(200, "good");
        var poison = TrackedEvents.Track("poison") with { Properties = """{"n":1e999999}""" };
        var spill = Directory.CreateDirectory(Path.Combine(_folder, "data", "spill")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(spill, $"20260301T120000000-{Guid.CreateVersion7():N}.jsonl"),
            TrackedEvents.Lines([.. good[..100], poison, .. good[100..]]));

        // When the service starts on PostgreSQL, replaying often
        await using var service = await ServiceProcess.StartAsync(_folder, new Dictionary<string, string>
        {
            ["Tracker__Sink__Kind"] = "Postgres",
            ["ConnectionStrings__Postgres"] = connectionString,
            ["Tracker__Spill__ReplayInterval"] = "00:00:00.500",
        });

        // Then the 200 are stored, the poison is kept in rejected_events, and the segment is gone
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        long stored = 0;
        Assert.True(await Eventually.TrueAsync(async () => (stored = await CountAsync(dataSource, "events")) == 200, Patience.Default),
            $"stored {stored} of 200. Output:\n{service.Output}");
        Assert.True(await Eventually.TrueAsync(async () => await CountAsync(dataSource, "rejected_events WHERE message_id = 'poison'") == 1, Patience.Default),
            $"the poison is not in rejected_events. Output:\n{service.Output}");
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(service.CountSpilledEvents() == 0), Patience.Default),
            $"the segment was not deleted. Output:\n{service.Output}");

        // And later replay passes find nothing to do again: the service is up, takes and stores new events, and
        // never failed a replay
        using (var response = await service.Client.PostAsync("/events", Bodies.Json(Bodies.Batch(10, "after"))))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        Assert.True(await Eventually.TrueAsync(async () => await CountAsync(dataSource, "events") == 210, Patience.Default),
            $"the later events were not stored. Output:\n{service.Output}");
        Assert.Equal("Healthy", await service.Admin.GetStringAsync("/healthz/ready"));
        Assert.Equal(1, await CountAsync(dataSource, "rejected_events"));
        Assert.DoesNotContain("Spill replay stopped", service.Output, StringComparison.Ordinal);
        var (exitCode, _) = await service.TerminateAsync(Patience.Default);
        Assert.Equal(0, exitCode);
    }

    private static async Task<long> CountAsync(NpgsqlDataSource dataSource, string from)
    {
        await using var count = dataSource.CreateCommand($"SELECT count(*) FROM {from}");
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
