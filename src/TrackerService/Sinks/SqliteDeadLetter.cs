using Microsoft.Data.Sqlite;

namespace TrackerService.Sinks;

/// <summary>The SQLite store's dead-letter table: rare writes, so ordinary commands rather than the hot path's raw statement.</summary>
internal static class SqliteDeadLetter
{
    public static readonly string Schema = DeadLetter.Schema("TEXT", "TEXT");

    private static readonly string[] ParameterNames = ["$message_id", "$reason", "$field", "$source", "$raw", "$received_at", "$rejected_at"];

    private static readonly string Insert = $"""
        INSERT INTO {DeadLetter.Table} ({DeadLetter.Columns})
        VALUES ($message_id, $reason, $field, $source, $raw, $received_at, $rejected_at)
        ON CONFLICT (message_id) DO NOTHING;
        """;

    /// <summary>Writes <paramref name="rejected"/> in one transaction, on the caller's thread (SQLite's calls are synchronous).</summary>
    /// <returns>How many were new (not rejected before).</returns>
    public static int Write(SqliteConnection connection, IReadOnlyList<RejectedEvent> rejected, DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.CommandText = Insert;
        var parameters = ParameterNames
            .Select(name => command.Parameters.Add(name, SqliteType.Text))
            .ToArray();
        var added = 0;
        foreach (var r in rejected)
        {
            cancellationToken.ThrowIfCancellationRequested();
            parameters[0].Value = (object?)r.MessageId ?? DBNull.Value;
            parameters[1].Value = r.Reason;
            parameters[2].Value = (object?)r.Field ?? DBNull.Value;
            parameters[3].Value = (object?)r.Source ?? DBNull.Value;
            parameters[4].Value = DeadLetter.Storable(r.Raw);
            parameters[5].Value = SqliteStatement.FormatTime(r.ReceivedAt);
            parameters[6].Value = SqliteStatement.FormatTime(now);
            added += command.ExecuteNonQuery();
        }

        SqliteFileCheck.ThrowIfMoved(connection.Handle!); // as for events: nothing kept in a file that is gone
        transaction.Commit();
        return added;
    }
}
