using Microsoft.Data.Sqlite;
using Npgsql;
using TrackerService.Benchmarks.Stream;

namespace TrackerService.Benchmarks.Store;

/// <summary>Reads how many events a store holds, cheaply enough to poll while the service writes to it.</summary>
internal abstract class StoreProbe : IAsyncDisposable
{
    /// <summary>
    /// A probe for <c>sqlite:&lt;file&gt;</c>, <c>postgres:&lt;connection string&gt;</c>, <c>jetstream:&lt;nats url&gt;</c>
    /// (the JetStream sink's stream by its message count, through the NATS client: <see cref="JetStreamProbe"/>) or
    /// <c>jsz:&lt;monitoring url&gt;</c> (by its last sequence, from nats-server's /jsz: <see cref="JszProbe"/>); null for <c>none</c>.
    /// </summary>
    public static StoreProbe? Open(string sink) => sink switch
    {
        "none" => null,
        _ when sink.StartsWith("jsz:", StringComparison.Ordinal) => new JszProbe(sink["jsz:".Length..]),
        _ when sink.StartsWith("sqlite:", StringComparison.Ordinal) => new SqliteProbe(sink["sqlite:".Length..]),
        _ when sink.StartsWith("postgres:", StringComparison.Ordinal) => new PostgresProbe(sink["postgres:".Length..]),
        _ when sink.StartsWith("jetstream:", StringComparison.Ordinal) => new JetStreamProbe(sink["jetstream:".Length..]),
        _ => throw new ArgumentException($"sink must be sqlite:<file>, postgres:<connection string>, jetstream:<nats url>, jsz:<monitoring url> or none, not '{sink}'", nameof(sink)),
    };

    /// <summary>The exact number of rows in <c>events</c>.</summary>
    public abstract Task<long> TotalAsync();

    /// <summary>Marks the start of a run: <see cref="StoredSinceStartAsync"/> counts from here.</summary>
    public abstract Task StartAsync(DateTimeOffset since);

    /// <summary>Rows stored since <see cref="StartAsync"/>, by a query that does not scan the whole table.</summary>
    public abstract Task<long> StoredSinceStartAsync();

    /// <summary>How many of these message ids are stored (an index lookup each).</summary>
    public abstract Task<long> PresentAsync(string[] messageIds);

    public abstract ValueTask DisposeAsync();

    private sealed class SqliteProbe(string file) : StoreProbe
    {
        // Read-only, beside the service's writer: WAL lets this read without taking its lock.
        private readonly SqliteConnection _connection = Connect(file);
        private long _baseRowId;

        private static SqliteConnection Connect(string file)
        {
            var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
            connection.Open();
            return connection;
        }

        public override Task<long> TotalAsync() => Scalar("SELECT count(*) FROM events");

        public override async Task StartAsync(DateTimeOffset since) => _baseRowId = await Scalar("SELECT coalesce(max(rowid), 0) FROM events");

        // The service only inserts, so rowids grow by one per stored row: max(rowid) is a count that costs one seek.
        public override async Task<long> StoredSinceStartAsync() => await Scalar("SELECT coalesce(max(rowid), 0) FROM events") - _baseRowId;

        public override async Task<long> PresentAsync(string[] messageIds)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT count(*) FROM events WHERE message_id IN ({string.Join(',', messageIds.Select((_, k) => $"$p{k}"))})";
            for (var k = 0; k < messageIds.Length; k++)
            {
                command.Parameters.AddWithValue($"$p{k}", messageIds[k]);
            }

            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }

        public override async ValueTask DisposeAsync() => await _connection.DisposeAsync();

        private async Task<long> Scalar(string sql)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private sealed class PostgresProbe(string connectionString) : StoreProbe
    {
        private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);
        private DateTimeOffset _since;

        public override async Task<long> TotalAsync()
        {
            await using var command = _dataSource.CreateCommand("SELECT count(*) FROM events");
            return (long)(await command.ExecuteScalarAsync())!;
        }

        public override Task StartAsync(DateTimeOffset since)
        {
            _since = since;
            return Task.CompletedTask;
        }

        // received_at is stamped by the service after the request arrived, on this machine's clock: this run's rows
        // are the ones at or after its start, counted through the received_at index rather than the whole table.
        public override async Task<long> StoredSinceStartAsync()
        {
            await using var command = _dataSource.CreateCommand("SELECT count(*) FROM events WHERE received_at >= $1");
            command.Parameters.AddWithValue(_since);
            return (long)(await command.ExecuteScalarAsync())!;
        }

        public override async Task<long> PresentAsync(string[] messageIds)
        {
            await using var command = _dataSource.CreateCommand("SELECT count(*) FROM events WHERE message_id = ANY($1)");
            command.Parameters.AddWithValue(messageIds);
            return (long)(await command.ExecuteScalarAsync())!;
        }

        public override async ValueTask DisposeAsync() => await _dataSource.DisposeAsync();
    }
}
