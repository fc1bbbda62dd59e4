using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using TrackerService.Events;
using TrackerService.Sinks;

namespace TrackerService.Benchmarks.Store;

/// <summary>
/// What each store takes when nothing else is in the way: the same rows as the service writes, written by the
/// barest loop each store offers, in one go. The end-to-end figures are read against these.
/// </summary>
internal static class RawWriteCommands
{
    private static readonly string[] Columns = ["message_id", "type", "event", "user_id", "anonymous_id", "timestamp", "sent_at", "received_at", "properties", "traits", "context"];

    /// <summary>SqliteEventSink's table, statement and pragmas, written through Microsoft.Data.Sqlite in one transaction.</summary>
    public static async Task<int> SqliteAsync(string file, int events)
    {
        foreach (var path in new[] { file, file + "-wal", file + "-shm" })
        {
            File.Delete(path);
        }

        var rows = Rows(events);
        // A bare insert loop binds .NET strings: their JSON objects are decoded before the clock starts.
        var objects = rows.Select(e => (Properties: e.Properties?.ToString(), Traits: e.Traits?.ToString(), Context: e.Context?.ToString())).ToArray();
        await using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
        await connection.OpenAsync();
        using (var setup = connection.CreateCommand())
        {
            setup.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;" + SqliteSchema.Versions.Script;
            await setup.ExecuteNonQueryAsync();
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using (var transaction = connection.BeginTransaction(deferred: false))
        using (var insert = connection.CreateCommand())
        {
            insert.CommandText = """
                INSERT INTO events (message_id, type, event, user_id, anonymous_id, timestamp, sent_at, received_at, properties, traits, context)
                VALUES ($message_id, $type, $event, $user_id, $anonymous_id, $timestamp, $sent_at, $received_at, $properties, $traits, $context)
                ON CONFLICT (message_id) DO NOTHING;
                """;
            var p = Columns.Select(name => insert.Parameters.Add(new SqliteParameter("$" + name, SqliteType.Text)))
                .ToArray();
            insert.Prepare();
            foreach (var (e, json) in rows.Zip(objects))
            {
                p[0].Value = e.MessageId;
                p[1].Value = e.Type.ToWireName();
                p[2].Value = (object?)e.Event ?? DBNull.Value;
                p[3].Value = (object?)e.UserId ?? DBNull.Value;
                p[4].Value = (object?)e.AnonymousId ?? DBNull.Value;
                p[5].Value = SqliteStatement.FormatTime(e.Timestamp);
                p[6].Value = SqliteStatement.FormatTime(e.SentAt);
                p[7].Value = SqliteStatement.FormatTime(e.ReceivedAt);
                p[8].Value = (object?)json.Properties ?? DBNull.Value;
                p[9].Value = (object?)json.Traits ?? DBNull.Value;
                p[10].Value = (object?)json.Context ?? DBNull.Value;
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        clock.Stop();
        Report("raw-sqlite", events, clock.Elapsed, cpu);
        return 0;
    }

    /// <summary>
    /// One binary COPY of the rows, each written as the sink writes it, into PostgresEventSink's table, in a schema of its own (<c>bench_raw</c>, emptied
    /// first) so the service's <c>events</c> in the same database is left alone.
    /// </summary>
    public static async Task<int> PostgresAsync(string connectionString, int events)
    {
        var rows = Rows(events);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using (var setup = new NpgsqlCommand(
            "CREATE SCHEMA IF NOT EXISTS bench_raw; SET search_path TO bench_raw;" + PostgresSchema.Versions.Script + "TRUNCATE events;", connection))
        {
            await setup.ExecuteNonQueryAsync();
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await using (var copy = await connection.BeginBinaryImportAsync(
            $"COPY events ({PostgresEventSink.Columns}) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var e in rows)
            {
                PostgresEventSink.WriteRow(copy, e);
            }

            await copy.CompleteAsync();
        }

        clock.Stop();
        Report("raw-postgres", events, clock.Elapsed, cpu);
        return 0;
    }

    /// <summary>The rows, built before the clock starts, as the service holds them after parsing.</summary>
    private static TrackedEvent[] Rows(int events)
    {
        var prefix = SampleEvents.NewPrefix();
        var receivedAt = DateTimeOffset.UtcNow;
        return [.. Enumerable.Range(0, events).Select(i => SampleEvents.Tracked(SampleEvents.Id(prefix, i), i, receivedAt))];
    }

    /// <summary>
    /// The figure, with the CPU time this process spent writing (from <paramref name="cpuAtStart"/>): the baseline
    /// for the service's CPU per event. Only the writer's own CPU, as for the service: neither counts the store's.
    /// </summary>
    private static void Report(string kind, int events, TimeSpan elapsed, TimeSpan cpuAtStart)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart;
        Output.Result(new
        {
            Kind = kind,
            Events = events,
            Seconds = Math.Round(elapsed.TotalSeconds, 3),
            EventsPerS = Math.Round(events / elapsed.TotalSeconds),
            ServerCpuS = Math.Round(cpu.TotalSeconds, 3),
        });
    }
}
