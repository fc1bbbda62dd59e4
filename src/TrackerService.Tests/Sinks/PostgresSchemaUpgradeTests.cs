using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TrackerService.Sinks;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>The PostgreSQL store's versioned schema: a database written by the unversioned service upgraded in place, and the rest.</summary>
[Collection(PostgresDatabase.Name)]
public sealed class PostgresSchemaUpgradeTests(PostgresFixture postgres)
{
    /// <summary>Every column of the service's tables, with type, nullability and default, and the indexes.</summary>
    private const string Shape = """
        SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name IN ('events', 'rejected_events', 'tracker_schema')
        UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
        ORDER BY 1
        """;

    [SkippableFact]
    public async Task TheServiceUpgradesAVersionOneDatabaseInPlaceAndReplaysItsSpill()
    {
        // Given a database as the unversioned service left it, with events and a dead letter, and a segment in its spill
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await ExecuteAsync(dataSource, SchemaV1.Postgres + SchemaV1.Rows);
        var before = await TextAsync(dataSource, "SELECT events::text FROM events ORDER BY message_id");
        var folder = Directory.CreateTempSubdirectory("tracker-pg-schema-").FullName;
        try
        {
            await SchemaV1.WriteSpillAsync(Path.Combine(folder, "data", "spill"));

            // When the service starts on them and an event is posted
            using var app = new TrackerApplication(new() { ["Tracker:Sink:Kind"] = "Postgres", ["ConnectionStrings:Postgres"] = connectionString }, folder: folder);
            using var client = app.CreateClient();
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/events", Bodies.Json(Bodies.Track("new-0")))).StatusCode);

            // Then the old events are there as they were, the spill was replayed and removed, the new one stored too
            long stored = 0;
            Assert.True(await Eventually.TrueAsync(async () => (stored = await CountAsync(dataSource, "events")) == 6, Patience.Default), $"stored {stored}");
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(StoreReader.CountSpilledEvents(Path.Combine(folder, "data", "spill")) == 0), Patience.Default));
            Assert.Equal(["spilled-0", "spilled-1"], await TextAsync(dataSource, "SELECT message_id FROM events WHERE message_id LIKE 'spilled-%' ORDER BY 1"));
            var old = await TextAsync(dataSource, "SELECT (message_id, type, event, user_id, anonymous_id, timestamp, sent_at, received_at, properties, traits, context)::text FROM events WHERE message_id LIKE 'old-%' ORDER BY message_id");
            Assert.Equal(before, old);
            Assert.Equal(["bad-0"], await TextAsync(dataSource, "SELECT message_id FROM rejected_events"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        // And the database is at the latest version, shaped as a new one, the new columns empty
        Assert.Equal([PostgresSchema.Versions.Latest.ToString(System.Globalization.CultureInfo.InvariantCulture)], await TextAsync(dataSource, "SELECT version::text FROM tracker_schema"));
        Assert.Equal(await TextAsync(await FreshAsync(), Shape), await TextAsync(dataSource, Shape));
        Assert.Equal(0, await CountAsync(dataSource, "events WHERE coalesce(name, category, group_id, previous_id, original_timestamp::text, integrations::text, source) IS NOT NULL"));
    }

    [SkippableFact]
    public async Task ANewDatabaseIsCreatedAtTheLatestVersionWithTheSpecFields()
    {
        // When a sink initializes an empty database
        var fresh = await FreshAsync();

        // Then it is at the latest version and events has version 2's columns, nullable, integrations as jsonb
        Assert.Equal(["2"], await TextAsync(fresh, "SELECT version::text FROM tracker_schema"));
        Assert.Equal(
            ["category text YES", "group_id text YES", "integrations jsonb YES", "name text YES", "original_timestamp timestamp with time zone YES", "previous_id text YES", "source text YES"],
            await TextAsync(fresh, """
                SELECT column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns
                WHERE table_name = 'events' AND column_name IN ('name', 'category', 'group_id', 'previous_id', 'original_timestamp', 'integrations', 'source') ORDER BY 1
                """));
    }

    [SkippableFact]
    public async Task FourReplicasUpgradingAVersionOneDatabaseTogetherUpgradeItOnce()
    {
        // Given a version-1 database with events
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        await ExecuteAsync(dataSource, SchemaV1.Postgres + SchemaV1.Rows);

        // When four sinks initialize at once, and then one more
        var sinks = Enumerable.Range(0, 4).Select(_ => new PostgresEventSink(dataSource, NullLogger<PostgresEventSink>.Instance)).ToArray();
        await Task.WhenAll(sinks.Select(s => s.InitializeAsync(CancellationToken.None)));
        var shape = await TextAsync(dataSource, Shape);
        await new PostgresEventSink(dataSource, NullLogger<PostgresEventSink>.Instance).InitializeAsync(CancellationToken.None);

        // Then none failed, one marker row at the latest version, the shape unchanged by the second start, the events there and writable
        Assert.Equal(["2"], await TextAsync(dataSource, "SELECT version::text FROM tracker_schema"));
        Assert.Equal(shape, await TextAsync(dataSource, Shape));
        Assert.Equal(1, await sinks[0].WriteAsync([TrackedEvents.Track("new-0")], CancellationToken.None));
        Assert.Equal(4, await CountAsync(dataSource, "events"));
    }

    [SkippableFact]
    public async Task ADatabaseWithANewerVersionIsRefusedAndLeftAlone()
    {
        // Given a database a later version of the service wrote
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        await ExecuteAsync(dataSource, SchemaV1.Postgres + "CREATE TABLE tracker_schema (version int NOT NULL); INSERT INTO tracker_schema VALUES (3);");
        var shape = await TextAsync(dataSource, Shape);

        // When a sink initializes on it
        var sink = new PostgresEventSink(dataSource, NullLogger<PostgresEventSink>.Instance);
        var refused = await Assert.ThrowsAsync<SchemaVersionException>(() => sink.InitializeAsync(CancellationToken.None));

        // Then it says which version it found and which it knows, is not worth retrying, and changed nothing
        Assert.Contains("version 3, newer than the latest this version of TrackerService knows (2)", refused.Message, StringComparison.Ordinal);
        Assert.False(sink.IsTransient(refused));
        Assert.Equal(shape, await TextAsync(dataSource, Shape));
    }

    private async Task<NpgsqlDataSource> FreshAsync()
    {
        var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        await new PostgresEventSink(dataSource, NullLogger<PostgresEventSink>.Instance).InitializeAsync(CancellationToken.None);
        return dataSource;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> CountAsync(NpgsqlDataSource dataSource, string from)
    {
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM {from}");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<List<string>> TextAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
