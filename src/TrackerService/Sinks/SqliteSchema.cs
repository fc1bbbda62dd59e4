namespace TrackerService.Sinks;

/// <summary>
/// The SQLite store's schema versions (<see cref="StoreSchema"/>); the version is the file's <c>PRAGMA user_version</c>,
/// a number in its header that SQLite itself never uses, written in the step's transaction.
/// </summary>
internal static class SqliteSchema
{
    public static readonly StoreSchema Versions = new(
        "sqlite",
        [
            // 1: the events table and the dead-letter table, as first released.
            SqliteEventsTable.Schema + SqliteDeadLetter.Schema,

            // 2: the Segment spec's fields (issue 14), NULL until the API carries them; integrations is JSON text.
            """
            ALTER TABLE events ADD COLUMN name TEXT;
            ALTER TABLE events ADD COLUMN category TEXT;
            ALTER TABLE events ADD COLUMN group_id TEXT;
            ALTER TABLE events ADD COLUMN previous_id TEXT;
            ALTER TABLE events ADD COLUMN original_timestamp TEXT;
            ALTER TABLE events ADD COLUMN integrations TEXT;
            ALTER TABLE events ADD COLUMN source TEXT;
            """,
        ],

        // The transaction is BEGIN IMMEDIATE: it holds the file's write lock until it commits.
        Lock: "",
        ReadVersion: """
            SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events') THEN user_version ELSE 0 END
            FROM pragma_user_version
            """,
        WriteVersion: version => $"PRAGMA user_version = {version};");
}
