using SQLitePCL;
using TrackerService.Events;

namespace TrackerService.Sinks;

/// <summary>The SQLite store's <c>events</c> table and the one statement that writes it (<see cref="SqliteEventSink"/>).</summary>
/// <remarks><see cref="Schema"/> is the table as first released (version 1); later versions add to it in <see cref="SqliteSchema"/>.</remarks>
internal static class SqliteEventsTable
{
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS events (
            message_id   TEXT NOT NULL UNIQUE,
            type         TEXT NOT NULL,
            event        TEXT,
            user_id      TEXT,
            anonymous_id TEXT,
            timestamp    TEXT,
            sent_at      TEXT,
            received_at  TEXT NOT NULL,
            properties   TEXT,
            traits       TEXT,
            context      TEXT
        );
        """;

    /// <summary>
    /// Bound by position, in this order, per event (<see cref="SqliteEventSink"/>); a messageId already stored is
    /// skipped. Columns it doesn't name stay NULL. Needs the schema's version 2 (<see cref="SqliteSchema"/>).
    /// </summary>
    public const string Insert = """
        INSERT INTO events (message_id, type, event, user_id, anonymous_id, timestamp, sent_at, received_at, properties, traits, context,
                            name, category, group_id, previous_id, original_timestamp, integrations, source)
        VALUES ($message_id, $type, $event, $user_id, $anonymous_id, $timestamp, $sent_at, $received_at, $properties, $traits, $context,
                $name, $category, $group_id, $previous_id, $original_timestamp, $integrations, $source)
        ON CONFLICT (message_id) DO NOTHING;
        """;

    /// <summary>Binds one event to <see cref="Insert"/>'s parameters; <paramref name="time"/> is scratch space for the times' text.</summary>
    public static void Bind(sqlite3_stmt insert, TrackedEvent e, Span<byte> time)
    {
        SqliteStatement.BindText(insert, 1, e.MessageId);
        SqliteStatement.BindText(insert, 2, e.Type.ToWireName());
        SqliteStatement.BindText(insert, 3, e.Event);
        SqliteStatement.BindText(insert, 4, e.UserId);
        SqliteStatement.BindText(insert, 5, e.AnonymousId);
        SqliteStatement.BindTime(insert, 6, e.Timestamp, time);
        SqliteStatement.BindTime(insert, 7, e.SentAt, time);
        SqliteStatement.BindTime(insert, 8, e.ReceivedAt, time);
        SqliteStatement.BindText(insert, 9, e.Properties);
        SqliteStatement.BindText(insert, 10, e.Traits);
        SqliteStatement.BindText(insert, 11, e.Context);
        SqliteStatement.BindText(insert, 12, e.Name);
        SqliteStatement.BindText(insert, 13, e.Category);
        SqliteStatement.BindText(insert, 14, e.GroupId);
        SqliteStatement.BindText(insert, 15, e.PreviousId);
        SqliteStatement.BindTime(insert, 16, e.OriginalTimestamp, time);
        SqliteStatement.BindText(insert, 17, e.Integrations);
        SqliteStatement.BindText(insert, 18, e.Source);
    }
}
