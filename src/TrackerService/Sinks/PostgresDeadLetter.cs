using Npgsql;

namespace TrackerService.Sinks;

/// <summary>The PostgreSQL store's dead-letter table (<see cref="DeadLetter"/>; its schema is created with the events table).</summary>
internal static class PostgresDeadLetter
{
    public static async Task<int> WriteAsync(NpgsqlDataSource dataSource, IReadOnlyList<RejectedEvent> rejected, CancellationToken cancellationToken)
    {
        // Rare: one statement over arrays, unnested, rather than a COPY (which would fail whole on a repeat).
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO {DeadLetter.Table} ({DeadLetter.Columns})
            SELECT m, r, f, s, raw, rec, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) AS t(m, r, f, s, raw, rec)
            ON CONFLICT (message_id) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = [.. rejected.Select(r => r.MessageId)] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rejected.Select(r => r.Reason)] });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = [.. rejected.Select(r => r.Field)] });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = [.. rejected.Select(r => r.Source)] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rejected.Select(r => DeadLetter.Storable(r.Raw))] });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = [.. rejected.Select(r => r.ReceivedAt.UtcDateTime)] });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
