using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using TrackerService.Sinks;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>The SQLite store's versioned schema: a file written by the unversioned service upgraded in place, and the rest.</summary>
public sealed class SqliteSchemaUpgradeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-schema-").FullName;

    private string Database => Path.Combine(_folder, "data", "events.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task TheServiceUpgradesAVersionOneFileInPlaceAndReplaysItsSpill()
    {
        // Given a file as the unversioned service left it, with events and a dead letter, and a segment in its spill
        await ExecuteAsync(Database, SchemaV1.Sqlite + SchemaV1.Rows);
        await SchemaV1.WriteSpillAsync(Path.Combine(_folder, "data", "spill"));
        var before = await QueryAsync(Database, "SELECT * FROM events ORDER BY message_id");

        // When the service starts on that folder and an event is posted
        using var app = new TrackerApplication(folder: _folder);
        using var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/events", Bodies.Json(Bodies.Track("new-0")))).StatusCode);

        // Then the old events are there as they were, the spill was replayed and removed, the new one stored too
        await app.WaitForStoredAsync(6);
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(StoreReader.CountSpilledEvents(Path.Combine(_folder, "data", "spill")) == 0), Patience.Default));
        Assert.Equal(2, await app.CountStoredAsync("message_id LIKE 'spilled-%'"));
        var after = await QueryAsync(Database, "SELECT message_id, type, event, user_id, anonymous_id, timestamp, sent_at, received_at, properties, traits, context FROM events WHERE message_id LIKE 'old-%' ORDER BY message_id");
        Assert.Equal(before.Select(Text), after.Select(Text));
        Assert.Equal(["bad-0"], (await QueryAsync(Database, "SELECT message_id FROM rejected_events")).Select(r => (string)r[0]!));

        // And the file is at the latest version, with the columns of a new file, the new ones empty
        Assert.Equal(SqliteSchema.Versions.Latest, await VersionAsync(Database));
        Assert.Equal(2, SqliteSchema.Versions.Latest);
        Assert.Equal(await ColumnsAsync(await FreshFileAsync()), await ColumnsAsync(Database));
        Assert.Equal(0L, (await QueryAsync(Database, "SELECT count(*) FROM events WHERE coalesce(name, category, group_id, previous_id, original_timestamp, integrations, source) IS NOT NULL")).Single()[0]);
    }

    [Fact]
    public async Task ANewFileIsCreatedAtTheLatestVersionWithTheSpecFields()
    {
        // When a sink initializes an empty file
        var fresh = await FreshFileAsync();

        // Then it is at the latest version and events has version 2's columns, nullable
        Assert.Equal(SqliteSchema.Versions.Latest, await VersionAsync(fresh));
        var columns = await QueryAsync(fresh, "SELECT name, type, \"notnull\" FROM pragma_table_info('events') ORDER BY cid");
        string[] added = ["name", "category", "group_id", "previous_id", "original_timestamp", "integrations", "source"];
        Assert.Equal(added, columns.Skip(11).Select(c => (string)c[0]!));
        Assert.All(columns.Skip(11), c => Assert.Equal(("TEXT", 0L), ((string)c[1]!, (long)c[2]!)));
    }

    [Fact]
    public async Task AFileFromBeforeTheDeadLetterTableGetsIt()
    {
        // Given a file of the version before the dead-letter table: events only, no version marker
        var eventsOnly = SchemaV1.Sqlite[..SchemaV1.Sqlite.IndexOf("CREATE TABLE IF NOT EXISTS rejected_events", StringComparison.Ordinal)];
        await ExecuteAsync(Database, eventsOnly + "INSERT INTO events (message_id, type, received_at) VALUES ('old', 'track', '2026-01-01T00:00:00.0000000Z');");

        // When the sink initializes on it
        await using var sink = Sink(Database);
        await sink.InitializeAsync(CancellationToken.None);

        // Then it is at the latest version, its event is there, and a refused event can be kept
        Assert.Equal(SqliteSchema.Versions.Latest, await VersionAsync(Database));
        Assert.Equal(1, await StoreReader.CountAsync(Database));
        Assert.Equal(1, await sink.RejectAsync([new RejectedEvent("r-1", "{}", "refused", TrackedEvents.ReceivedAt)], CancellationToken.None));
        Assert.Equal(await ColumnsAsync(await FreshFileAsync()), await ColumnsAsync(Database));
    }

    [Fact]
    public async Task InitializingTwiceChangesNothing()
    {
        // Given an upgraded file holding an event
        await ExecuteAsync(Database, SchemaV1.Sqlite + SchemaV1.Rows);
        await using (var first = Sink(Database))
        {
            await first.InitializeAsync(CancellationToken.None);
            Assert.Equal(1, await first.WriteAsync([TrackedEvents.One("m-1")], CancellationToken.None));
        }

        var columns = await ColumnsAsync(Database);

        // When a second sink initializes on it
        await using var second = Sink(Database);
        await second.InitializeAsync(CancellationToken.None);

        // Then the version, the columns and the events are as they were
        Assert.Equal(SqliteSchema.Versions.Latest, await VersionAsync(Database));
        Assert.Equal(columns, await ColumnsAsync(Database));
        Assert.Equal(4, await StoreReader.CountAsync(Database));
    }

    [Fact]
    public async Task AFileWithANewerVersionIsRefusedAndLeftAlone()
    {
        // Given a file a later version of the service wrote
        await ExecuteAsync(Database, SchemaV1.Sqlite + SchemaV1.Rows + "ALTER TABLE events ADD COLUMN later TEXT; PRAGMA user_version = 3;");
        var columns = await ColumnsAsync(Database);

        // When a sink initializes on it
        await using var sink = Sink(Database);
        var refused = await Assert.ThrowsAsync<SchemaVersionException>(() => sink.InitializeAsync(CancellationToken.None));

        // Then it says which version it found and which it knows, is not worth retrying, and changed nothing
        Assert.Contains("version 3, newer than the latest this version of TrackerService knows (2)", refused.Message, StringComparison.Ordinal);
        Assert.False(sink.IsTransient(refused));
        Assert.Equal(3, await VersionAsync(Database));
        Assert.Equal(columns, await ColumnsAsync(Database));
    }

    [Fact]
    public async Task TheServiceStopsWithExitCodeOneOnANewerFile()
    {
        // Given the service's folder holding a file of schema version 3
        await ExecuteAsync(Database, SchemaV1.Sqlite + "PRAGMA user_version = 3;");

        // When it starts
        var (exitCode, lines) = await ServiceProcess.RunToExitAsync(_folder, TimeSpan.FromSeconds(60));

        // Then it exits 1 with its last line naming the version found and the one it knows
        Assert.Equal(1, exitCode);
        var line = Assert.Single(lines, l => l.Contains("cannot start", StringComparison.Ordinal));
        Assert.Contains("The sqlite store's schema is at version 3, newer than the latest this version of TrackerService knows (2)", line, StringComparison.Ordinal);
    }

    private static string Text(object?[] row) => string.Join("|", row.Select(v => v?.ToString() ?? "NULL"));

    private static SqliteEventSink Sink(string database) => new(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Sqlite"] = $"Data Source={database}" }).Build(),
        Microsoft.Extensions.Options.Options.Create(new SinkOptions()),
        NullLogger<SqliteEventSink>.Instance);

    private async Task<string> FreshFileAsync()
    {
        var fresh = Path.Combine(_folder, "fresh", "events.db");
        await using var sink = Sink(fresh);
        await sink.InitializeAsync(CancellationToken.None);
        return fresh;
    }

    /// <summary>Every column of both tables, with its type, nullability, default and key: what a fresh and an upgraded file must share.</summary>
    private static async Task<string[]> ColumnsAsync(string database) =>
        [.. (await QueryAsync(database, """
            SELECT t.name, c.cid, c.name, c.type, c."notnull", c.dflt_value, c.pk
            FROM sqlite_master t, pragma_table_info(t.name) c
            WHERE t.type = 'table' ORDER BY t.name, c.cid
            """)).Select(Text)];

    private static async Task<long> VersionAsync(string database) => (long)(await QueryAsync(database, "PRAGMA user_version")).Single()[0]!;

    private static async Task ExecuteAsync(string database, string sql)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(database)!);
        await using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static Task<List<object?[]>> QueryAsync(string database, string sql) => StoreReader.QueryAsync(database, sql);
}
