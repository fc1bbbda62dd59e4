namespace TrackerService.Sinks;

/// <summary>
/// The PostgreSQL store's schema versions (<see cref="StoreSchema"/>). The version is the one row of
/// <c>tracker_schema</c>: a table rather than a comment on <c>events</c>, so that it is read with a plain SELECT,
/// written in the step's transaction like any row, and not lost to a <c>COMMENT ON</c> someone else writes.
/// </summary>
internal static class PostgresSchema
{
    // Any fixed number: replicas starting together take this lock so only one changes the schema at a time
    // (concurrent CREATE TABLE IF NOT EXISTS can still fail on the catalog's unique indexes).
    internal const long SchemaLock = 0x7472_6163_6b65_72;

    public static readonly StoreSchema Versions = new(
        "postgresql",
        [
            // 1: the events table, its index and the dead-letter table, as first released.
            """
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
            """ + "\n" + DeadLetter.Schema("text", "timestamptz"),

            // 2: the Segment spec's fields (issue 14), NULL until the API carries them. IF NOT EXISTS only so that
            // the benchmarks can run Script again on their own tables; the marker keeps the service from doing so.
            """
            ALTER TABLE events
                ADD COLUMN IF NOT EXISTS name               text,
                ADD COLUMN IF NOT EXISTS category           text,
                ADD COLUMN IF NOT EXISTS group_id           text,
                ADD COLUMN IF NOT EXISTS previous_id        text,
                ADD COLUMN IF NOT EXISTS original_timestamp timestamptz,
                ADD COLUMN IF NOT EXISTS integrations       jsonb,
                ADD COLUMN IF NOT EXISTS source             text;
            """,
        ],

        // The marker's table is created first, in the same transaction, so that reading it never fails.
        Lock: $"SELECT pg_advisory_xact_lock({SchemaLock}); CREATE TABLE IF NOT EXISTS tracker_schema (version int NOT NULL);",
        ReadVersion: """
            SELECT CASE WHEN to_regclass('events') IS NULL THEN 0 ELSE COALESCE((SELECT max(version) FROM tracker_schema), 0) END
            """,
        WriteVersion: version => $"DELETE FROM tracker_schema; INSERT INTO tracker_schema (version) VALUES ({version});");
}
