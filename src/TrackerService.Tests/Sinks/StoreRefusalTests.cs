using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TrackerService.Events;
using TrackerService.Sinks;
using TrackerService.Telemetry;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>
/// The real stores refusing an event for its data, written through <see cref="SinkWriter"/>: the rest of the batch
/// is stored, the refused event is in <c>rejected_events</c> with the store's own reason, and the write does not throw.
/// </summary>
[Collection(PostgresDatabase.Name)]
public sealed class StoreRefusalTests(PostgresFixture postgres) : IDisposable
{
    /// <summary>Valid JSON that PostgreSQL's <c>jsonb</c> refuses (22003 value overflows numeric format).</summary>
    private static readonly TrackedEvent Poison = TrackedEvents.Track("poison") with { Properties = """{"n":1e999999}""" };

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"tracker-refusal-{Guid.NewGuid():N}");

    public void Dispose()
    {
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [SkippableFact]
    public async Task PostgresStoresTheRestOfTheBatchAndKeepsTheEventItRefusesWithItsReason()
    {
        // Given PostgreSQL, and a batch of 200 good events with one that jsonb can't hold among them (not through the API)
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var sink = new PostgresEventSink(dataSource, NullLogger<PostgresEventSink>.Instance);
        await sink.InitializeAsync(CancellationToken.None);
        var good = TrackedEvents.Many(200, "good");
        TrackedEvent[] batch = [.. good[..150], Poison, .. good[150..]];

        // When the batch is written, and again (a replay of the same spill)
        using var telemetry = new TrackerTelemetry(_services.GetRequiredService<IMeterFactory>());
        var writer = new SinkWriter(sink, new SinkPipeline(new SinkOptions(), sink.IsTransient, TimeProvider.System), TimeProvider.System, telemetry);
        Assert.Equal(200, await writer.WriteAsync(batch, span: null, CancellationToken.None));
        Assert.Equal(0, await writer.WriteAsync(batch, span: null, CancellationToken.None));

        // Then the 200 are stored, and the poison is kept once, with PostgreSQL's reason and the event's JSON
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM events");
        Assert.Equal(200L, await count.ExecuteScalarAsync());
        await using var rejected = dataSource.CreateCommand("SELECT message_id, reason, raw, received_at FROM rejected_events");
        await using var row = await rejected.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal("poison", row.GetString(0));
        Assert.Contains("22003", row.GetString(1), StringComparison.Ordinal);
        Assert.Contains("numeric", row.GetString(1), StringComparison.Ordinal);
        Assert.Equal(EventLine.ToJson(Poison), row.GetString(2));
        Assert.Equal(Poison.ReceivedAt, row.GetFieldValue<DateTimeOffset>(3));
        Assert.False(await row.ReadAsync());
    }

    [Fact]
    public async Task SqliteStoresTheRestOfTheBatchAndKeepsTheEventItRefusesWithItsReason()
    {
        // Given SQLite with a rule that refuses one event (a constraint, as SQLite reports a row it won't take)
        var database = Path.Combine(_folder, "events.db");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Sqlite"] = $"Data Source={database}",
        }).Build();
        await using var sink = new SqliteEventSink(configuration, Microsoft.Extensions.Options.Options.Create(new SinkOptions()), NullLogger<SqliteEventSink>.Instance);
        await sink.InitializeAsync(CancellationToken.None);
        await using (var connection = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var rule = connection.CreateCommand();
            rule.CommandText = """
                CREATE TRIGGER refuse_poison BEFORE INSERT ON events WHEN NEW.message_id = 'poison'
                BEGIN SELECT RAISE(ABORT, 'poison refused'); END;
                """;
            await rule.ExecuteNonQueryAsync();
        }

        TrackedEvent[] batch = [Poison, .. TrackedEvents.Many(200, "good")];
        using var telemetry = new TrackerTelemetry(_services.GetRequiredService<IMeterFactory>());
        var writer = new SinkWriter(sink, new SinkPipeline(new SinkOptions(), sink.IsTransient, TimeProvider.System), TimeProvider.System, telemetry);

        // When the batch is written
        Assert.Equal(200, await writer.WriteAsync(batch, span: null, CancellationToken.None));

        // Then the 200 are stored and the poison kept with SQLite's reason
        Assert.Equal(200, await StoreReader.CountAsync(database));
        await using var reader = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        await reader.OpenAsync();
        await using var rejected = reader.CreateCommand();
        rejected.CommandText = "SELECT message_id || ' ' || reason FROM rejected_events";
        var kept = (string?)await rejected.ExecuteScalarAsync();
        Assert.StartsWith("poison ", kept, StringComparison.Ordinal);
        Assert.Contains("poison refused", kept, StringComparison.Ordinal);
    }
}
