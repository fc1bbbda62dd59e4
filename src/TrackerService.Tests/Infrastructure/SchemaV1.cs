namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// The stores' schema before it was versioned (version 1), copied here as it was written then, so that a change
/// to the service's first step can't make the upgrade tests start from something other than a real old database.
/// </summary>
internal static class SchemaV1
{
    public const string Sqlite = """
        PRAGMA journal_mode = WAL;
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
        CREATE TABLE IF NOT EXISTS rejected_events (
            message_id  TEXT UNIQUE,
            reason      TEXT NOT NULL,
            field       TEXT,
            source      TEXT,
            raw         TEXT NOT NULL,
            received_at TEXT NOT NULL,
            rejected_at TEXT NOT NULL
        );
        """;

    public const string Postgres = """
        CREATE TABLE IF NOT EXISTS events (
            message_id   text        NOT NULL UNIQUE,
            type         text        NOT NULL,
            event        text,
            user_id      text,
            anonymous_id text,
            timestamp    timestamptz,
            sent_at      timestamptz,
            received_at  timestamptz NOT NULL,
            properties   jsonb,
            traits       jsonb,
            context      jsonb
        );
        CREATE INDEX IF NOT EXISTS events_received_at_idx ON events (received_at);
        CREATE TABLE IF NOT EXISTS rejected_events (
            message_id  text UNIQUE,
            reason      text NOT NULL,
            field       text,
            source      text,
            raw         text NOT NULL,
            received_at timestamptz NOT NULL,
            rejected_at timestamptz NOT NULL
        );
        """;

    /// <summary>Three old events and one dead letter, with version 1's columns (the same statement for both stores).</summary>
    public const string Rows = """
        INSERT INTO events (message_id, type, event, user_id, anonymous_id, timestamp, sent_at, received_at, properties, traits, context)
        VALUES ('old-0', 'track', 'Bought', 'u-1', NULL, '2026-01-31T12:00:00.0000000+00:00', NULL, '2026-01-31T12:00:01.0000000+00:00', '{"price": 9.5}', NULL, NULL),
               ('old-1', 'identify', NULL, 'u-1', 'a-1', NULL, NULL, '2026-01-31T12:00:02.0000000+00:00', NULL, '{"plan": "pro"}', NULL),
               ('old-2', 'page', NULL, NULL, 'a-2', NULL, NULL, '2026-01-31T12:00:03.0000000+00:00', NULL, NULL, '{"ip": "127.0.0.1"}');
        INSERT INTO rejected_events (message_id, reason, field, source, raw, received_at, rejected_at)
        VALUES ('bad-0', 'too deep', 'properties', NULL, '{"messageId": "bad-0"}', '2026-01-31T12:00:04.0000000+00:00', '2026-01-31T12:00:05.0000000+00:00');
        """;

    /// <summary>The segment a version-1 service left in its spill, in today's format.</summary>
    public static async Task WriteSpillAsync(string spillFolder)
    {
        Directory.CreateDirectory(spillFolder);
        await File.WriteAllBytesAsync(
            Path.Combine(spillFolder, "20260131T120000000-v1.jsonl"),
            TrackedEvents.Lines(TrackedEvents.Track("spilled-0"), TrackedEvents.Track("spilled-1")));
    }
}
