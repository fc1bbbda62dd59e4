using System.Runtime.InteropServices;
using SQLitePCL;

namespace TrackerService.Sinks;

/// <summary>
/// Notices that the store's file is gone while the service holds it open: the file deleted or replaced, or its
/// data folder removed. SQLite would go on committing into the unlinked file, which nobody can read again, so
/// every event "stored" from then on would be lost. SQLite's own file layer answers the question
/// (<c>SQLITE_FCNTL_HAS_MOVED</c>: a stat of the path compared with the file it has open); it is asked before
/// each commit, which costs a stat against a transaction of many rows (docs/performance.md).
/// </summary>
/// <remarks>
/// SQLitePCLRaw 2.1 does not wrap <c>sqlite3_file_control</c>, so it is called in the same native library
/// (<c>e_sqlite3</c>, which Microsoft.Data.Sqlite's bundle loads).
/// </remarks>
internal static class SqliteFileCheck
{
    private const int SQLITE_OK = 0, SQLITE_FCNTL_HAS_MOVED = 20;

    private static volatile bool s_unavailable;

    /// <summary>
    /// False when the native call could not be found (a SQLite build other than the bundle's): the store then works
    /// as before, without the check, rather than failing every write; the sink says so at start.
    /// </summary>
    public static bool IsAvailable => !s_unavailable;

    /// <summary>Throws <see cref="StoreFileMovedException"/> when <paramref name="db"/>'s main file is no longer at its path.</summary>
    /// <remarks>An in-memory or temporary database, which has no path, answers that it is not supported, and never counts as moved.</remarks>
    public static void ThrowIfMoved(sqlite3 db)
    {
        if (s_unavailable)
        {
            return;
        }

        var moved = 0;
        int rc;
        try
        {
            rc = FileControl(db.DangerousGetHandle(), zDbName: 0, SQLITE_FCNTL_HAS_MOVED, ref moved);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
            return;
        }

        if (rc == SQLITE_OK && moved != 0)
        {
            throw new StoreFileMovedException(
                $"The SQLite database file {raw.sqlite3_db_filename(db, "main").utf8_to_string()} was deleted or replaced while the service "
                + "held it open; nothing more is written into the lost file, and the service stops so that a restart opens a new one.");
        }
    }

    // The name and the integer are passed as the C API takes them; a null name means the main database.
    [DllImport("e_sqlite3", EntryPoint = "sqlite3_file_control", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int FileControl(nint db, nint zDbName, int op, ref int value);
}

/// <summary>The store's file is no longer where the service opened it: a broken store, not an outage (no retry brings it back).</summary>
internal sealed class StoreFileMovedException : Exception
{
    public StoreFileMovedException()
    {
    }

    public StoreFileMovedException(string message)
        : base(message)
    {
    }

    public StoreFileMovedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
