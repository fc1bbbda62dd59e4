using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using TrackerService.Sinks;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>The dead-letter table, <c>rejected_events</c>, in both stores: every column kept, a repeat skipped, text a store's JSON type would refuse kept as text.</summary>
[Collection(PostgresDatabase.Name)]
public sealed class DeadLetterTests(PostgresFixture postgres) : IDisposable
{
    private static readonly DateTimeOffset Received = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly RejectedEvent[] Rejected =
    [
        new("m-1", """{"messageId":"m-1","properties":{"n":1e999999}}""", "value overflows numeric format", Received, "properties", "web"),
        new(null, """{"userId":"\u0000"}""" + "\0", "no messageId", Received),
    ];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"tracker-deadletter-{Guid.NewGuid():N}");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task SqliteKeepsEachRejectedEventWithItsReasonOnce()
    {
        var database = Path.Combine(_folder, "events.db");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Sqlite"] = $"Data Source={database}",
        }).Build();
        await using var sink = new SqliteEventSink(configuration, Microsoft.Extensions.Options.Options.Create(new SinkOptions()), NullLogger<SqliteEventSink>.Instance);
        await sink.InitializeAsync(CancellationToken.None);

        // When two are rejected, then the first again (a replay done twice)
        Assert.Equal(2, await sink.RejectAsync(Rejected, CancellationToken.None));
        Assert.Equal(0, await sink.RejectAsync([Rejected[0]], CancellationToken.None));

        // Then both are kept once, with every column
        await using var connection = new SqliteConnection($"Data Source={database}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT message_id, reason, field, source, raw, received_at, rejected_at FROM rejected_events ORDER BY rowid";
        await using var row = await command.ExecuteReaderAsync();
        await AssertRowsAsync(row, row => row.GetString(5), row => row.GetString(6));
    }

    [SkippableFact]
    public async Task PostgresKeepsEachRejectedEventWithItsReasonOnce()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var sink = new PostgresEventSink(dataSource, NullLogger<PostgresEventSink>.Instance);
        await sink.InitializeAsync(CancellationToken.None);

        Assert.Equal(2, await sink.RejectAsync(Rejected, CancellationToken.None));
        Assert.Equal(0, await sink.RejectAsync([Rejected[0]], CancellationToken.None));

        await using var command = dataSource.CreateCommand(
            "SELECT message_id, reason, field, source, raw, received_at, rejected_at FROM rejected_events ORDER BY message_id NULLS LAST");
        await using var row = await command.ExecuteReaderAsync();
        await AssertRowsAsync(row, row => row.GetFieldValue<DateTimeOffset>(5).ToString("O"), row => row.GetFieldValue<DateTimeOffset>(6).ToString("O"));
    }

    private static async Task AssertRowsAsync(System.Data.Common.DbDataReader row, Func<System.Data.Common.DbDataReader, string> receivedAt,
        Func<System.Data.Common.DbDataReader, string> rejectedAt)
    {
        Assert.True(await row.ReadAsync());
        Assert.Equal("m-1", row.GetString(0));
        Assert.Equal("value overflows numeric format", row.GetString(1));
        Assert.Equal("properties", row.GetString(2));
        Assert.Equal("web", row.GetString(3));
        Assert.Equal(Rejected[0].Raw, row.GetString(4));
        Assert.Equal(Received, DateTimeOffset.Parse(receivedAt(row), System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(DateTimeOffset.Parse(rejectedAt(row), System.Globalization.CultureInfo.InvariantCulture) > Received);

        Assert.True(await row.ReadAsync());
        Assert.True(row.IsDBNull(0));
        Assert.True(row.IsDBNull(2));
        Assert.Equal("""{"userId":"\u0000"}\u0000""", row.GetString(4)); // a raw NUL kept as its escape
        Assert.False(await row.ReadAsync());
    }
}
