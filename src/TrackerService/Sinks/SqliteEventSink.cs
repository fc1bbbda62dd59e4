using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using SQLitePCL;
using TrackerService.Events;

namespace TrackerService.Sinks;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. SQLite takes one writer at a time, so writes are
/// serialized here on one long-lived connection with a prepared statement, instead of contending for
/// the file lock (and sleeping in SQLITE_BUSY loops) from several connections.
/// </summary>
internal sealed partial class SqliteEventSink : IEventSink, IAsyncDisposable
{
    public const string DefaultConnectionString = "Data Source=data/events.db";

    private const int SQLITE_BUSY = 5, SQLITE_LOCKED = 6, SQLITE_READONLY = 8, SQLITE_IOERR = 10, SQLITE_FULL = 13, SQLITE_CANTOPEN = 14,
        SQLITE_PROTOCOL = 15, SQLITE_TOOBIG = 18, SQLITE_CONSTRAINT = 19, SQLITE_MISMATCH = 20;

    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly string _connectionString;
    private readonly ILogger<SqliteEventSink> _logger;
    private SqliteConnection? _connection;
    private sqlite3_stmt? _insert;

    private readonly TimeSpan _attemptTimeout;

    public SqliteEventSink(IConfiguration configuration, IOptions<SinkOptions> options, ILogger<SqliteEventSink> logger)
    {
        _attemptTimeout = options.Value.AttemptTimeout;
        _connectionString = configuration.GetConnectionString(SinkOptions.SqliteConnectionString) ?? DefaultConnectionString;
        _logger = logger;
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var builder = new SqliteConnectionStringBuilder(_connectionString);
        if (builder.DataSource is { Length: > 0 } file && file != ":memory:" && builder.Mode != SqliteOpenMode.Memory)
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(file));
            if (folder is not null)
            {
                Directory.CreateDirectory(folder);
            }
        }

        _connection = new SqliteConnection(_connectionString);
        await _connection.OpenAsync(cancellationToken).ConfigureAwait(false);

        // A locked database makes a statement wait (SQLITE_BUSY) at most this long; the resilience pipeline retries.
        _connection.DefaultTimeout = (int)Math.Ceiling(_attemptTimeout.TotalSeconds);

        // WAL lets readers (reports, tests) run beside the writer; NORMAL sync is durable across
        // process crashes in WAL mode and spares an fsync per transaction.
        await ExecuteAsync("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", cancellationToken).ConfigureAwait(false);
        await SqliteSchema.Versions.UpgradeAsync(_connection, _logger, cancellationToken).ConfigureAwait(false);
        var location = Path.GetFullPath(builder.DataSource);
        LogReady(_logger, location, SqliteSchema.Versions.Latest);
        SqliteFileCheck.ThrowIfMoved(_connection.Handle!); // finds out now whether the check is available
        if (!SqliteFileCheck.IsAvailable)
        {
            LogNoFileCheck(_logger);
        }
    }

    public Task<int> WriteAsync(IReadOnlyList<TrackedEvent> batch, CancellationToken cancellationToken) =>
        OnWriterAsync(connection => Write(connection, batch, cancellationToken), cancellationToken);

    public Task<int> RejectAsync(IReadOnlyList<RejectedEvent> rejected, CancellationToken cancellationToken) =>
        OnWriterAsync(connection => SqliteDeadLetter.Write(connection, rejected, DateTimeOffset.UtcNow, cancellationToken), cancellationToken);

    /// <summary>
    /// SQLite refuses an event's data with a value over its length limit (SQLITE_TOOBIG), a constraint it breaks
    /// (SQLITE_CONSTRAINT: the unique messageId never raises it, ON CONFLICT skips a repeat) or a type it can't take
    /// (SQLITE_MISMATCH). The code is masked: extended codes carry the primary one in their low byte.
    /// </summary>
    public bool IsRefused(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: var code } && (code & 0xFF) is SQLITE_TOOBIG or SQLITE_CONSTRAINT or SQLITE_MISMATCH;

    /// <summary>
    /// Runs <paramref name="work"/> as the one writer. SQLite's calls are synchronous and its busy wait (a locked
    /// database) does not observe the token: the work runs on its own thread and the caller stops waiting when the
    /// token fires. An abandoned write may still commit later; the unique messageId makes the spilled copy harmless.
    /// </summary>
    private async Task<T> OnWriterAsync<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken)
    {
        var connection = _connection ?? throw new InvalidOperationException("The SQLite sink is not initialized.");
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        var write = Task.Run(
            () =>
            {
                try
                {
                    return work(connection);
                }
                finally
                {
                    _writer.Release();
                }
            },
            CancellationToken.None);
        return await write.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <remarks>
    /// The hot path of the embedded store, on SQLite's own API (the library under Microsoft.Data.Sqlite): one
    /// statement prepared for the connection's life, bound and stepped per event. Through <c>SqliteCommand</c>,
    /// each row paid for a data reader, a statement walk and a UTF-8 copy of every string, which made the
    /// writer, not the disk, the service's limit (docs/performance.md). Errors surface as <see cref="SqliteException"/>
    /// with SQLite's code, for <see cref="IsTransient"/>.
    /// </remarks>
    private int Write(SqliteConnection connection, IReadOnlyList<TrackedEvent> batch, CancellationToken cancellationToken)
    {
        // IMMEDIATE takes the write lock up front, so a busy database fails here, not half-way through.
        using var transaction = connection.BeginTransaction(deferred: false);
        var db = connection.Handle!;
        var insert = _insert ??= SqliteStatement.Prepare(db, SqliteEventsTable.Insert);
        Span<byte> time = stackalloc byte[40];
        var stored = 0;
        try
        {
            foreach (var e in batch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                SqliteEventsTable.Bind(insert, e, time);
                var rc = raw.sqlite3_step(insert);
                if (rc != raw.SQLITE_DONE)
                {
                    SqliteException.ThrowExceptionForRC(rc, db);
                }

                stored += raw.sqlite3_changes(db);
                raw.sqlite3_reset(insert);
            }
        }
        finally
        {
            // A failed step leaves the statement to be reset before the transaction can roll back cleanly.
            raw.sqlite3_reset(insert);
            raw.sqlite3_clear_bindings(insert);
        }

        SqliteFileCheck.ThrowIfMoved(db); // the file still there, or the transaction rolls back
        transaction.Commit();
        return stored;
    }

    public string Name => "sqlite";

    /// <summary>
    /// A busy or locked database (another writer, a long checkpoint) can clear up, and so can the disk's errors: a
    /// full disk, I/O errors, a file or folder made read-only or that can't be opened (its permissions, an
    /// immutable flag) are the store being unavailable, not broken: the batch is spilled and tried again. A missing
    /// table, a corrupt file or a constraint failure will not clear, however often it is tried. The primary code is
    /// read off an extended one (<c>SQLITE_IOERR_WRITE</c> is 10 | 3 &lt;&lt; 8).
    /// </summary>
    public bool IsTransient(Exception exception) => exception is SqliteException sqlite
        && (sqlite.SqliteErrorCode & 0xFF) is SQLITE_BUSY or SQLITE_LOCKED or SQLITE_READONLY or SQLITE_IOERR or SQLITE_FULL
            or SQLITE_CANTOPEN or SQLITE_PROTOCOL;

    public async ValueTask DisposeAsync()
    {
        // A write abandoned at the shutdown deadline may still hold the connection; closing it under that
        // write would be unsafe, and the process is about to exit anyway.
        if (_connection is not null && await _writer.WaitAsync(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false))
        {
            _insert?.Dispose(); // a prepared statement must be finalized before its connection closes
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        using var command = _connection!.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "SQLite sink ready at {DataSource:l}, schema version {Version}")]
    private static partial void LogReady(ILogger logger, string dataSource, int version);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "This SQLite build has no sqlite3_file_control: a database file deleted while the service runs will not be noticed")]
    private static partial void LogNoFileCheck(ILogger logger);
}
