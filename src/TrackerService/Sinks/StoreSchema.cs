using System.Data.Common;

namespace TrackerService.Sinks;

/// <summary>
/// A store's schema as a list of steps, and the upgrade both stores run at start. <c>Steps[i]</c> takes a database
/// from version <c>i</c> to <c>i + 1</c>, so the latest version is the number of steps. A database without a marker,
/// or without its <c>events</c> table (dropped: the table is built again, as before versions), is at version 0: empty,
/// or written before the schema was versioned, whose tables step 1 creates only where they
/// are missing (its statements are all <c>IF NOT EXISTS</c>): the dead-letter table came after the events table,
/// and a database from between the two gets it that way. Adding a version is adding a step at the end
/// of <see cref="SqliteSchema"/> and <see cref="PostgresSchema"/>; a step, once released, never changes.
/// </summary>
/// <param name="Store">The store's name, for messages.</param>
/// <param name="Steps">The SQL of each step, in order.</param>
/// <param name="Lock">SQL run first in each step's transaction, which keeps other instances out until it commits; empty when the transaction itself does.</param>
/// <param name="ReadVersion">SQL returning the database's version: its marker, else 0; 0 too when <c>events</c> is missing.</param>
/// <param name="WriteVersion">SQL setting the marker to a version.</param>
internal sealed record StoreSchema(string Store, IReadOnlyList<string> Steps, string Lock, string ReadVersion, Func<int, string> WriteVersion)
{
    public int Latest => Steps.Count;

    /// <summary>Every step, as one script: the latest schema from nothing, without the marker (for the benchmarks).</summary>
    public string Script => string.Concat(Steps);

    /// <summary>
    /// Brings the database to <see cref="Latest"/>, one step per transaction, each under <see cref="Lock"/> and
    /// rereading the version first, so instances starting together upgrade once and a step half done never stays.
    /// A database without a marker gets every step in one transaction. A database at a version this code doesn't know is
    /// left alone and refused: its columns may mean what this code can't write.
    /// </summary>
    /// <returns>The version found before any step (0 without a marker).</returns>
    public async Task<int> UpgradeAsync(DbConnection connection, ILogger logger, CancellationToken cancellationToken)
    {
        int? found = null;
        while (true)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            if (Lock.Length > 0)
            {
                await ExecuteAsync(connection, transaction, Lock, cancellationToken).ConfigureAwait(false);
            }

            var version = await ReadAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            found ??= version;
            if (version > Latest)
            {
                throw new SchemaVersionException(
                    $"The {Store} store's schema is at version {version}, newer than the latest this version of TrackerService knows ({Latest}): "
                    + "refusing to start on it (a downgrade is not supported); run a version that knows schema " + version + ".");
            }

            if (version == Latest)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return found.Value;
            }

            var target = version == 0 ? Latest : version + 1;
            foreach (var step in Steps.Skip(version).Take(target - version))
            {
                await ExecuteAsync(connection, transaction, step, cancellationToken).ConfigureAwait(false);
            }

            await ExecuteAsync(connection, transaction, WriteVersion(target), cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            SchemaLog.Upgraded(logger, Store, version, target);
        }
    }

    private async Task<int> ReadAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = ReadVersion;
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

internal static partial class SchemaLog
{
    [LoggerMessage(EventId = 330, Level = LogLevel.Information, Message = "The {Store:l} store's schema went from version {From} to {To} (0: empty, or from before the schema was versioned)")]
    public static partial void Upgraded(ILogger logger, string store, int from, int to);
}

/// <summary>The store's schema is at a version this code does not know: not transient, the service stops.</summary>
internal sealed class SchemaVersionException(string message) : Exception(message);
