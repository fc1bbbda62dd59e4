using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using TrackerService.Events;
using TrackerService.Sinks;

namespace TrackerService.Benchmarks;

/// <summary>
/// The PostgreSQL sink's write path (binary COPY straight into the table; through a staging table only on a unique-key conflict)
/// against the obvious alternative, a batched INSERT … ON CONFLICT DO NOTHING (one NpgsqlBatch of single-row
/// statements, one round trip, one transaction), on the same rows, interleaved, in one run.
/// </summary>
internal static class PostgresWriteBenchmark
{
    public static async Task RunAsync(string connectionString, int batches, int batchSize, int rounds)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var sink = new PostgresEventSink(dataSource, NullLogger<PostgresEventSink>.Instance);
        await sink.InitializeAsync(CancellationToken.None);

        var copy = new List<double>();
        var insert = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            copy.Add(await MeasureAsync(dataSource, batches, batchSize, $"c{round}", b => sink.WriteAsync(b, CancellationToken.None)));
            insert.Add(await MeasureAsync(dataSource, batches, batchSize, $"i{round}", b => InsertBatchAsync(dataSource, b)));
        }

        var copyMedian = Median(copy);
        var insertMedian = Median(insert);
        Console.WriteLine($"| PostgreSQL write, {batchSize}-event batches | events/s (median of {rounds}) |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| binary COPY into events (the sink) | {copyMedian:N0} |");
        Console.WriteLine($"| batched INSERT ON CONFLICT (baseline) | {insertMedian:N0} |");
        Console.WriteLine($"| ratio | {copyMedian / insertMedian:F2}× |");
    }

    private static async Task<double> MeasureAsync(NpgsqlDataSource dataSource, int batches, int batchSize, string prefix, Func<IReadOnlyList<TrackedEvent>, Task<int>> write)
    {
        await using (var truncate = dataSource.CreateCommand("TRUNCATE events"))
        {
            await truncate.ExecuteNonQueryAsync();
        }

        var receivedAt = DateTimeOffset.UtcNow;
        var data = Enumerable.Range(0, batches)
            .Select(b => (IReadOnlyList<TrackedEvent>)[.. Enumerable.Range(0, batchSize).Select(i => new TrackedEvent(
                $"{prefix}-{b}-{i}", EventType.Track, "Order Completed", $"user-{i % 1000}", null, receivedAt, receivedAt, receivedAt,
                $$"""{"order_id":"{{b}}-{{i}}","total":{{i * 1.5}},"currency":"EUR","products":[{"sku":"A-1","qty":2}]}""",
                null, """{"ip":"203.0.113.7","library":{"name":"analytics.js","version":"5.2.0"}}"""))])
            .ToArray();

        var clock = Stopwatch.StartNew();
        var stored = 0;
        foreach (var batch in data)
        {
            stored += await write(batch);
        }

        clock.Stop();
        if (stored != batches * batchSize)
        {
            throw new InvalidOperationException($"stored {stored} of {batches * batchSize}");
        }

        return stored / clock.Elapsed.TotalSeconds;
    }

    private static async Task<int> InsertBatchAsync(NpgsqlDataSource dataSource, IReadOnlyList<TrackedEvent> batch)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlBatch(connection, transaction);
        foreach (var e in batch)
        {
            var insert = new NpgsqlBatchCommand("""
                INSERT INTO events (message_id, type, event, user_id, anonymous_id, timestamp, sent_at, received_at, properties, traits, context)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (message_id) DO NOTHING
                """);
            insert.Parameters.Add(new NpgsqlParameter { Value = e.MessageId, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter { Value = e.Type.ToWireName(), NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)e.Event ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)e.UserId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)e.AnonymousId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)e.Timestamp?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)e.SentAt?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(new NpgsqlParameter { Value = e.ReceivedAt.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)e.Properties?.ToString() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)e.Traits?.ToString() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)e.Context?.ToString() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Jsonb });
            command.BatchCommands.Add(insert);
        }

        var stored = await command.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
        return stored;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
