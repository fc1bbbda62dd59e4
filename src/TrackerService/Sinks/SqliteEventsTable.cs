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

    /// <summary>Bound by position, in this order, per event; a messageId already stored is skipped. Columns it doesn't name stay NULL.</summary>
    public const string Insert = """
        INSERT INTO events (message_id, type, event, user_id, anonymous_id, timestamp, sent_at, received_at, properties, traits, context)
        VALUES ($message_id, $type, $event, $user_id, $anonymous_id, $timestamp, $sent_at, $received_at, $properties, $traits, $context)
        ON CONFLICT (message_id) DO NOTHING;
        """;
}
