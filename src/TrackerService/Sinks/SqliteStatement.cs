using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using TrackerService.Events;

namespace TrackerService.Sinks;

/// <summary>
/// Binding a prepared statement through SQLite's own API (SQLitePCL, under Microsoft.Data.Sqlite), each failure
/// raised as the <see cref="SqliteException"/> Microsoft.Data.Sqlite would raise, with SQLite's code.
/// </summary>
internal static class SqliteStatement
{
    public static sqlite3_stmt Prepare(sqlite3 db, string sql)
    {
        var rc = raw.sqlite3_prepare_v2(db, sql, out var statement);
        SqliteException.ThrowExceptionForRC(rc, db);
        return statement;
    }

    /// <summary>Binds text as UTF-16; SQLite converts it to the file's UTF-8 itself, without a managed copy.</summary>
    public static void BindText(sqlite3_stmt statement, int index, string? value) =>
        Check(statement, value is null ? raw.sqlite3_bind_null(statement, index) : raw.sqlite3_bind_text16(statement, index, value.AsSpan()));

    /// <summary>A client's JSON, bound as the UTF-8 it arrived in (the database's own encoding: no conversion).</summary>
    public static void BindText(sqlite3_stmt statement, int index, JsonText? value) =>
        Check(statement, value is null ? raw.sqlite3_bind_null(statement, index) : raw.sqlite3_bind_text(statement, index, value.Utf8));

    /// <summary>Binds a time as UTC ISO-8601 text (as <see cref="FormatTime"/> formats it), formatted into <paramref name="buffer"/>.</summary>
    public static void BindTime(sqlite3_stmt statement, int index, DateTimeOffset? value, Span<byte> buffer)
    {
        if (value is not { } t)
        {
            Check(statement, raw.sqlite3_bind_null(statement, index));
            return;
        }

        t.UtcDateTime.TryFormat(buffer, out var written, "O", CultureInfo.InvariantCulture);
        Check(statement, raw.sqlite3_bind_text(statement, index, buffer[..written]));
    }

    /// <summary>Times are stored as UTC ISO-8601 text, which sorts and compares correctly as text.</summary>
    public static object FormatTime(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) : DBNull.Value;

    private static void Check(sqlite3_stmt statement, int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, raw.sqlite3_db_handle(statement));
        }
    }
}
