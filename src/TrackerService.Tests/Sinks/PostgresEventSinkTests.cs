using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TrackerService.Events;
using TrackerService.Sinks;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

[Collection(PostgresDatabase.Name)]
public sealed class PostgresEventSinkTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset Received = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [SkippableFact]
    public async Task StoresEveryFieldOfEveryType()
    {
        // Given a sink on an empty database
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var sink = new PostgresEventSink(dataSource, NullLogger<PostgresEventSink>.Instance);
        await sink.InitializeAsync(CancellationToken.None);
        TrackedEvent[] batch = [.. Enum.GetValues<EventType>().Select(type => new TrackedEvent(
            $"m-{type}", type, type == EventType.Track ? "Bought" : null, "u-1", "a-1",
            new DateTimeOffset(2026, 1, 31, 12, 0, 0, TimeSpan.FromHours(2)), new DateTimeOffset(2026, 1, 31, 10, 0, 1, TimeSpan.Zero), Received,
            """{"price": 9.5, "tags": ["a", "ü"]}""", """{"plan": "pro"}""", """{"ip": "127.0.0.1"}"""))];

        // When the batch is written
        var stored = await sink.WriteAsync(batch, CancellationToken.None);

        // Then every event is stored with every field
        Assert.Equal(6, stored);
        await using var command = dataSource.CreateCommand("""
            SELECT message_id, type, event, user_id, anonymous_id, timestamp, sent_at, received_at,
                   properties = '{"price": 9.5, "tags": ["a", "ü"]}'::jsonb, traits ->> 'plan', context ->> 'ip'
            FROM events ORDER BY message_id
            """);
        await using var row = await command.ExecuteReaderAsync();
        var types = new List<string>();
        while (await row.ReadAsync())
        {
            types.Add(row.GetString(1));
            Assert.Equal($"m-{Enum.Parse<EventType>(row.GetString(1), ignoreCase: true)}", row.GetString(0));
            Assert.Equal(row.GetString(1) == "track" ? "Bought" : null, row.IsDBNull(2) ? null : row.GetString(2));
            Assert.Equal("u-1", row.GetString(3));
            Assert.Equal("a-1", row.GetString(4));
            Assert.Equal(new DateTimeOffset(2026, 1, 31, 10, 0, 0, TimeSpan.Zero), row.GetFieldValue<DateTimeOffset>(5));
            Assert.Equal(new DateTimeOffset(2026, 1, 31, 10, 0, 1, TimeSpan.Zero), row.GetFieldValue<DateTimeOffset>(6));
            Assert.Equal(Received, row.GetFieldValue<DateTimeOffset>(7));
            Assert.True(row.GetBoolean(8));
            Assert.Equal("pro", row.GetString(9));
            Assert.Equal("127.0.0.1", row.GetString(10));
        }

        Assert.Equal(["alias", "group", "identify", "page", "screen", "track"], types.Order());
    }

    [SkippableFact]
    public async Task StoresTheSegmentSpecFieldsInTheirColumns()
    {
        // Given a sink, and an event with every spec field
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var sink = new PostgresEventSink(dataSource, NullLogger<PostgresEventSink>.Instance);
        await sink.InitializeAsync(CancellationToken.None);
        var e = TrackedEvents.WithSpecFields("m-spec");

        // When it is written
        Assert.Equal(1, await sink.WriteAsync([e], CancellationToken.None));

        // Then each field is in its column
        await using var command = dataSource.CreateCommand(
            "SELECT name, category, group_id, previous_id, original_timestamp, integrations ->> 'Mixpanel', source FROM events");
        await using var row = await command.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal(["Docs", "Help", "group-1", "previous-1"], Enumerable.Range(0, 4).Select(row.GetString));
        Assert.Equal(e.OriginalTimestamp, row.GetFieldValue<DateTimeOffset>(4));
        Assert.Equal("true", row.GetString(5));
        Assert.Equal("web", row.GetString(6));
    }

    [SkippableFact]
    public async Task StoresARepeatedMessageIdOnce()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var sink = new PostgresEventSink(dataSource, NullLogger<PostgresEventSink>.Instance);
        await sink.InitializeAsync(CancellationToken.None);
        await sink.WriteAsync([TrackedEvents.One("dup"), TrackedEvents.One("a")], CancellationToken.None);

        // When the same messageId comes again, alone and twice within one batch
        var again = await sink.WriteAsync([TrackedEvents.One("dup"), TrackedEvents.One("b"), TrackedEvents.One("b")], CancellationToken.None);

        // Then only the new event is stored, once
        Assert.Equal(1, again);
        await using var count = dataSource.CreateCommand("SELECT count(*), count(DISTINCT message_id) FROM events");
        await using var row = await count.ExecuteReaderAsync();
        await row.ReadAsync();
        Assert.Equal(3L, row.GetInt64(0));
        Assert.Equal(3L, row.GetInt64(1));
    }

    [SkippableFact]
    public async Task CreatesTheSchemaSafelyWhenReplicasStartTogether()
    {
        // Given eight replicas starting at once on an empty database
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var sinks = Enumerable.Range(0, 8).Select(_ => new PostgresEventSink(dataSource, NullLogger<PostgresEventSink>.Instance)).ToArray();

        // When they all create the schema
        await Task.WhenAll(sinks.Select(s => s.InitializeAsync(CancellationToken.None)));

        // Then none failed, and the table and its index exist once
        await using var command = dataSource.CreateCommand(
            "SELECT (SELECT count(*) FROM pg_tables WHERE tablename = 'events'), (SELECT count(*) FROM pg_indexes WHERE indexname = 'events_received_at_idx')");
        await using var row = await command.ExecuteReaderAsync();
        await row.ReadAsync();
        Assert.Equal(1L, row.GetInt64(0));
        Assert.Equal(1L, row.GetInt64(1));
    }

    [SkippableFact]
    public async Task TheServiceStoresPostedEventsInPostgres()
    {
        // Given the service with the PostgreSQL sink
        var connectionString = await postgres.CreateDatabaseAsync();
        using var app = new TrackerApplication(new()
        {
            ["Tracker:Sink:Kind"] = "Postgres",
            ["ConnectionStrings:Postgres"] = connectionString,
        });
        using var client = app.CreateClient();

        // When 10 requests of 100 events are posted, one of them twice
        for (var r = 0; r < 10; r++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/events", Bodies.Json(Bodies.Batch(100, $"pg-{r}")))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/events", Bodies.Json(Bodies.Batch(100, "pg-0")))).StatusCode);

        // Then PostgreSQL holds each of the 1,000 distinct events once
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        long stored = 0;
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            await using var count = dataSource.CreateCommand("SELECT count(*) FROM events");
            stored = (long)(await count.ExecuteScalarAsync())!;
            return stored == 1_000;
        }, TimeSpan.FromSeconds(20)), $"stored {stored}");
    }
}
