using Npgsql;
using NpgsqlTypes;
using TrackerService.Events;

namespace TrackerService.Sinks;

/// <summary>
/// The production store. A batch is copied in binary straight into <c>events</c>: COPY is the fastest way in.
/// When some of its events are already stored, COPY refuses the whole batch (unique <c>message_id</c>), and
/// the batch goes again through a session-local staging table, moved into <c>events</c> with
/// <c>INSERT … ON CONFLICT (message_id) DO NOTHING</c> in one transaction, which skips them.
/// </summary>
internal sealed partial class PostgresEventSink(NpgsqlDataSource dataSource, ILogger<PostgresEventSink> logger) : IEventSink
{
    /// <summary>The columns written, named so that columns added by later schema versions (NULL until written) change nothing here.</summary>
    internal const string Columns = "message_id, type, event, user_id, anonymous_id, timestamp, sent_at, received_at, properties, traits, context, "
        + "name, category, group_id, previous_id, original_timestamp, integrations, source";

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await PostgresSchema.Versions.UpgradeAsync(connection, logger, cancellationToken).ConfigureAwait(false);
        LogReady(logger, connection.Host ?? "?", connection.Database, PostgresSchema.Versions.Latest);
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

    public Task<int> RejectAsync(IReadOnlyList<RejectedEvent> rejected, CancellationToken cancellationToken) =>
        PostgresDeadLetter.WriteAsync(dataSource, rejected, cancellationToken);

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
    /// <remarks>
    /// Rows are written with the synchronous calls: they fill Npgsql's write buffer and only flush when it is full
    /// (a local socket write), while the asynchronous ones cost an await chain per value, which was the largest
    /// single cost of the service's CPU time in a PostgreSQL end-to-end run (dotnet-trace; docs/performance.md). A flush is bounded by the importer's
    /// timeout (the connection's command timeout); starting and completing the COPY stay asynchronous and cancellable,
    /// and a consumer stuck in a flush at the shutdown deadline is spilled without it (DeliveryService).
    /// </remarks>
    private static async Task<ulong> CopyAsync(NpgsqlConnection connection, string table, IReadOnlyList<TrackedEvent> batch, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync($"COPY {table} ({Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
        foreach (var e in batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            WriteRow(copy, e);
        }

        return await copy.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One event as a row of <see cref="Columns"/>, into a binary COPY.</summary>
    internal static void WriteRow(NpgsqlBinaryImporter copy, TrackedEvent e)
    {
        copy.StartRow();
        copy.Write(e.MessageId, NpgsqlDbType.Text);
        copy.Write(e.Type.ToWireName(), NpgsqlDbType.Text);
        WriteText(copy, e.Event);
        WriteText(copy, e.UserId);
        WriteText(copy, e.AnonymousId);
        WriteTime(copy, e.Timestamp);
        WriteTime(copy, e.SentAt);
        copy.Write(e.ReceivedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz);
        WriteJson(copy, e.Properties);
        WriteJson(copy, e.Traits);
        WriteJson(copy, e.Context);
        WriteText(copy, e.Name);
        WriteText(copy, e.Category);
        WriteText(copy, e.GroupId);
        WriteText(copy, e.PreviousId);
        WriteTime(copy, e.OriginalTimestamp);
        WriteJson(copy, e.Integrations);
        WriteText(copy, e.Source);
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

    /// <summary>
    /// The server refused rows for their data: class 22, data exception (a number <c>numeric</c> can't hold, text
    /// the encoding can't, <c>\u0000</c> in <c>jsonb</c>); class 23, integrity (a constraint a row breaks), but for
    /// the unique violation <see cref="WriteAsync"/> handles; class 54, a program limit (a <c>jsonb</c> value
    /// too large or too deeply nested). A missing table (42P01) or permission (42501) is a broken store.
    /// </summary>
    public bool IsRefused(Exception exception) => exception is PostgresException { SqlState: var state }
        && state != PostgresErrorCodes.UniqueViolation
        && (state.StartsWith("22", StringComparison.Ordinal) || state.StartsWith("23", StringComparison.Ordinal) || state.StartsWith("54", StringComparison.Ordinal));

    private static void WriteText(NpgsqlBinaryImporter copy, string? value)
    {
        if (value is null)
        {
            copy.WriteNull();
        }
        else
        {
            copy.Write(value, NpgsqlDbType.Text);
        }
    }

    private static void WriteTime(NpgsqlBinaryImporter copy, DateTimeOffset? value)
    {
        if (value is { } time)
        {
            copy.Write(time.ToUniversalTime(), NpgsqlDbType.TimestampTz);
        }
        else
        {
            copy.WriteNull();
        }
    }

    /// <summary>A client's JSON as <c>jsonb</c>, from the UTF-8 it arrived in.</summary>
    private static void WriteJson(NpgsqlBinaryImporter copy, JsonText? value)
    {
        if (value is null)
        {
            copy.WriteNull();
        }
        else
        {
            copy.Write(value.Memory, NpgsqlDbType.Jsonb);
        }
    }

    [LoggerMessage(EventId = 310, Level = LogLevel.Information, Message = "PostgreSQL sink ready at {Host:l}/{Database:l}, schema version {Version}")]
    private static partial void LogReady(ILogger logger, string host, string database, int version);
}
