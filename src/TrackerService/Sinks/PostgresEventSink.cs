using Npgsql;
using NpgsqlTypes;
using TrackerService.Api;

namespace TrackerService.Sinks;

/// <summary>
/// The production store. A batch is copied in binary straight into <c>events</c>: COPY is the fastest way in.
/// When some of its events are already stored, COPY refuses the whole batch (unique <c>message_id</c>), and
/// the batch goes again through a session-local staging table, moved into <c>events</c> with
/// <c>INSERT … ON CONFLICT (message_id) DO NOTHING</c> in one transaction, which skips them.
/// </summary>
internal sealed partial class PostgresEventSink(NpgsqlDataSource dataSource, ILogger<PostgresEventSink> logger) : IEventSink
{
    // Any fixed number: replicas starting together take this lock so only one creates the schema at a time
    // (concurrent CREATE TABLE IF NOT EXISTS can still fail on the catalog's unique indexes).
    private const long SchemaLock = 0x7472_6163_6b65_72;

    private const string Schema = """
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
        """;

    private const string Columns = "message_id, type, event, user_id, anonymous_id, timestamp, sent_at, received_at, properties, traits, context";

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({SchemaLock}); {Schema}", connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        LogReady(logger, connection.Host ?? "?", connection.Database);
    }

    public async Task<int> WriteAsync(IReadOnlyList<TrackedEvent> batch, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The usual case, no event of the batch stored yet: one COPY straight into the table (a statement of
            // its own, so all rows or none).
            return (int)await CopyAsync(connection, "events", batch, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Some are already there (a redelivery, a replay, a client resending): nothing was written; take the
            // path that skips them.
            return await CopyThroughStagingAsync(connection, batch, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<int> CopyThroughStagingAsync(NpgsqlConnection connection, IReadOnlyList<TrackedEvent> batch, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // Temporary tables live as long as the pooled connection; ON COMMIT DELETE ROWS empties it each time.
        await using (var staging = new NpgsqlCommand(
            "CREATE TEMP TABLE IF NOT EXISTS events_staging (LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
            connection, transaction))
        {
            await staging.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await CopyAsync(connection, "events_staging", batch, cancellationToken).ConfigureAwait(false);

        int stored;
        await using (var move = new NpgsqlCommand(
            $"INSERT INTO events ({Columns}) SELECT {Columns} FROM events_staging ON CONFLICT (message_id) DO NOTHING",
            connection, transaction))
        {
            stored = await move.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return stored;
    }

    /// <summary>Binary COPY of the batch into <paramref name="table"/>; the rows copied.</summary>
    private static async Task<ulong> CopyAsync(NpgsqlConnection connection, string table, IReadOnlyList<TrackedEvent> batch, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync($"COPY {table} ({Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
        foreach (var e in batch)
        {
            await copy.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(e.MessageId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(e.Type.ToWireName(), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await WriteNullableAsync(copy, e.Event, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await WriteNullableAsync(copy, e.UserId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await WriteNullableAsync(copy, e.AnonymousId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await WriteNullableAsync(copy, e.Timestamp?.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
            await WriteNullableAsync(copy, e.SentAt?.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(e.ReceivedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
            await WriteJsonAsync(copy, e.Properties, cancellationToken).ConfigureAwait(false);
            await WriteJsonAsync(copy, e.Traits, cancellationToken).ConfigureAwait(false);
            await WriteJsonAsync(copy, e.Context, cancellationToken).ConfigureAwait(false);
        }

        return await copy.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    public string Name => "postgresql";

    /// <summary>Connection loss, timeouts and the server's own transient states are worth retrying; bad data or schema are not.</summary>
    public bool IsTransient(Exception exception) => exception switch
    {
        NpgsqlException { IsTransient: true } => true,
        NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException or TimeoutException } => true,
        TimeoutException or IOException => true,
        _ => false,
    };

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? copy.WriteNullAsync(cancellationToken) : copy.WriteAsync(value, type, cancellationToken);

    /// <summary>A client's JSON as <c>jsonb</c>, from the UTF-8 it arrived in.</summary>
    private static Task WriteJsonAsync(NpgsqlBinaryImporter copy, JsonText? value, CancellationToken cancellationToken) =>
        value is null ? copy.WriteNullAsync(cancellationToken) : copy.WriteAsync(value.Memory, NpgsqlDbType.Jsonb, cancellationToken);

    [LoggerMessage(EventId = 310, Level = LogLevel.Information, Message = "PostgreSQL sink ready at {Host:l}/{Database:l}")]
    private static partial void LogReady(ILogger logger, string host, string database);
}
