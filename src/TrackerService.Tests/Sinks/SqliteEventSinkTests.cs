using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TrackerService.Events;
using TrackerService.Sinks;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>Runs the sink against a real SQLite file in a fresh temporary folder per test.</summary>
public sealed class SqliteEventSinkTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"tracker-sink-tests-{Guid.NewGuid():N}");
    private readonly string _database;
    private readonly List<SqliteEventSink> _sinks = [];

    public SqliteEventSinkTests() => _database = Path.Combine(_root, "events.db");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var sink in _sinks)
        {
            await sink.DisposeAsync();
        }

        // Pooled connections keep the file (and its -wal/-shm companions) open.
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task InitializeCreatesTheFolderAndTheEventsTable()
    {
        // Given a data source in a folder that does not exist yet
        Assert.False(Directory.Exists(_root));
        var sink = NewSink();

        // When the sink is initialized
        await sink.InitializeAsync(CancellationToken.None);

        // Then the folder, the file and the events table with every column exist
        Assert.True(File.Exists(_database));
        var columns = await QueryAsync("SELECT name, \"notnull\" FROM pragma_table_info('events') ORDER BY cid");
        Assert.Equal(
            ["message_id", "type", "event", "user_id", "anonymous_id", "timestamp", "sent_at", "received_at", "properties", "traits", "context",
                "name", "category", "group_id", "previous_id", "original_timestamp", "integrations", "source"],
            columns.Select(c => (string)c[0]!));
        Assert.Equal(
            ["message_id", "type", "received_at"],
            columns.Where(c => (long)c[1]! == 1).Select(c => (string)c[0]!));
    }

    [Fact]
    public async Task StoresTheSegmentSpecFieldsInTheirColumns()
    {
        // Given a sink, and an event with every spec field
        var sink = NewSink();
        await sink.InitializeAsync(CancellationToken.None);
        var e = TrackedEvents.WithSpecFields("m-spec");

        // When it is written
        Assert.Equal(1, await sink.WriteAsync([e], CancellationToken.None));

        // Then each field is in its column
        var row = Assert.Single(await QueryAsync(
            "SELECT name, category, group_id, previous_id, original_timestamp, integrations, source, timestamp FROM events"));
        Assert.Equal(["Docs", "Help", "group-1", "previous-1", "2026-03-01T13:00:00.0000000Z", """{"All":false,"Mixpanel":true}""", "web",
            "2026-03-01T11:59:00.0000000Z"], row.Select(v => (string)v!));
    }

    [Fact]
    public async Task InitializeTurnsOnWriteAheadLogging()
    {
        // Given an initialized sink
        await InitializedSinkAsync();

        // When another connection asks for the journal mode
        var mode = (await QueryAsync("PRAGMA journal_mode")).Single()[0];

        // Then the file is in WAL mode
        Assert.Equal("wal", mode);
    }

    [Fact]
    public async Task InitializeKeepsEventsStoredByAnEarlierRun()
    {
        // Given a file holding one event
        var first = await InitializedSinkAsync();
        Assert.Equal(1, await first.WriteAsync([TrackedEvents.One("m-1")], CancellationToken.None));

        // When a second sink initializes on the same file
        var second = await InitializedSinkAsync();

        // Then the event is still there, and still counts as stored
        Assert.Equal(0, await second.WriteAsync([TrackedEvents.One("m-1")], CancellationToken.None));
        Assert.Equal(1, await CountAsync());
    }

    [Fact]
    public async Task WriteBeforeInitializeIsRefused()
    {
        // Given a sink that was not initialized
        var sink = NewSink();

        // When a batch is written, Then the call is refused
        await Assert.ThrowsAsync<InvalidOperationException>(() => sink.WriteAsync([TrackedEvents.One("m-1")], CancellationToken.None));
    }

    [Fact]
    public async Task RoundTripsEveryField()
    {
        // Given an event with every field set (times in non-UTC offsets, JSON with odd spacing and escapes)
        // and one with every optional field missing
        var sink = await InitializedSinkAsync();
        const string Properties = """{ "b": 1,  "a": [1, 2.50, 1e3], "s": "caf\u00e9 ☃", "n": null }""";
        const string Traits = """{"name":"Ada","tags":[]}""";
        const string Context = """
            {"ip": "203.0.113.7",
             "nested": {"x": true}}
            """;
        var full = new TrackedEvent(
            "m-full",
            EventType.Identify,
            "Signed Up",
            "user-7",
            "anon-7",
            new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.FromHours(2)).AddTicks(1_234_567),
            new DateTimeOffset(2024, 5, 6, 5, 8, 10, TimeSpan.Zero),
            new DateTimeOffset(2024, 5, 6, 0, 8, 11, TimeSpan.FromHours(-5)),
            Properties,
            Traits,
            Context);
        var sparse = new TrackedEvent(
            "m-sparse", EventType.Page, null, null, "anon-8", null, null,
            new DateTimeOffset(2024, 12, 31, 23, 59, 59, 999, TimeSpan.Zero), null, null, null);

        // When they are written
        var stored = await sink.WriteAsync([full, sparse], CancellationToken.None);

        // Then every field reads back: times as UTC ISO-8601 round-trip text, JSON text exactly as given
        Assert.Equal(2, stored);
        var rows = await QueryAsync(
            "SELECT message_id, type, event, user_id, anonymous_id, timestamp, sent_at, received_at, properties, traits, context FROM events ORDER BY message_id");
        Assert.Equal(2, rows.Count);
        Assert.Equal(
            ["m-full", "identify", "Signed Up", "user-7", "anon-7",
             "2024-05-06T05:08:09.1234567Z", "2024-05-06T05:08:10.0000000Z", "2024-05-06T05:08:11.0000000Z",
             Properties, Traits, Context],
            rows[0]);
        Assert.Equal(
            ["m-sparse", "page", null, null, "anon-8", null, null, "2024-12-31T23:59:59.9990000Z", null, null, null],
            rows[1]);
    }

    [Fact]
    public async Task StoresAMessageIdOnceWithinABatch()
    {
        // Given a batch that carries one messageId twice (a client retry merged into the same batch)
        var sink = await InitializedSinkAsync();
        var original = TrackedEvents.One("m-1") with { Event = "Original" };
        var repeat = TrackedEvents.One("m-1") with { Event = "Repeat" };

        // When it is written
        var stored = await sink.WriteAsync([original, repeat, TrackedEvents.One("m-2")], CancellationToken.None);

        // Then one row per messageId is stored, the first one written, and the count says so
        Assert.Equal(2, stored);
        var rows = await QueryAsync("SELECT message_id, event FROM events ORDER BY message_id");
        Assert.Equal(["m-1", "Original"], rows[0]);
        Assert.Equal("m-2", rows[1][0]);
        Assert.Equal(2, rows.Count);
    }

    [Fact]
    public async Task StoresAMessageIdOnceAcrossBatches()
    {
        // Given a stored batch
        var sink = await InitializedSinkAsync();
        Assert.Equal(2, await sink.WriteAsync([TrackedEvents.One("m-1"), TrackedEvents.One("m-2")], CancellationToken.None));

        // When batches that repeat its messageIds are written (a retried write, a client resend)
        var partlyNew = await sink.WriteAsync([TrackedEvents.One("m-2"), TrackedEvents.One("m-3")], CancellationToken.None);
        var allSeen = await sink.WriteAsync([TrackedEvents.One("m-1"), TrackedEvents.One("m-2"), TrackedEvents.One("m-3")], CancellationToken.None);

        // Then only the new events are stored and counted
        Assert.Equal(1, partlyNew);
        Assert.Equal(0, allSeen);
        Assert.Equal(3, await CountAsync());
    }

    [Fact]
    public async Task StoresNothingOfABatchWhenCancelled()
    {
        // Given an initialized sink and a cancelled token
        var sink = await InitializedSinkAsync();
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        // When a batch is written with it
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => sink.WriteAsync([TrackedEvents.One("m-1"), TrackedEvents.One("m-2")], cancellation.Token));

        // Then none of the batch is stored, and the sink still takes the next write
        Assert.Equal(0, await CountAsync());
        Assert.Equal(2, await sink.WriteAsync([TrackedEvents.One("m-1"), TrackedEvents.One("m-2")], CancellationToken.None));
        Assert.Equal(2, await CountAsync());
    }

    private SqliteEventSink NewSink()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Sqlite"] = $"Data Source={_database}" })
            .Build();
        var sink = new SqliteEventSink(configuration, Microsoft.Extensions.Options.Options.Create(new SinkOptions()), NullLogger<SqliteEventSink>.Instance);
        _sinks.Add(sink);
        return sink;
    }

    private async Task<SqliteEventSink> InitializedSinkAsync()
    {
        var sink = NewSink();
        await sink.InitializeAsync(CancellationToken.None);
        return sink;
    }

    private async Task<long> CountAsync() => (long)(await QueryAsync("SELECT count(*) FROM events")).Single()[0]!;

    /// <summary>Reads through a connection of its own, as a report would, beside the sink's writer connection.</summary>
    private Task<List<object?[]>> QueryAsync(string sql) => StoreReader.QueryAsync(_database, sql);
}
