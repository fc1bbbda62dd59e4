using Microsoft.Data.Sqlite;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Reads a service's SQLite store from the outside, on a connection of its own.</summary>
internal static class StoreReader
{
    public static async Task<long> CountAsync(string databasePath, string where = "1 = 1")
    {
        if (!File.Exists(databasePath))
        {
            return 0;
        }

        await using var connection = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly;Pooling=False;Default Timeout=10");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM events WHERE {where}";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Waits until the store holds <paramref name="expected"/> rows; fails if it does not within the timeout.</summary>
    public static async Task WaitForCountAsync(string databasePath, long expected, TimeSpan? timeout = null)
    {
        long last = -1;
        var reached = await Eventually.TrueAsync(async () => (last = await CountAsync(databasePath)) == expected, timeout ?? Patience.Default);
        Assert.True(reached, $"Expected {expected} stored events, found {last}.");
    }

    /// <summary>The rows <paramref name="sql"/> returns, each as its column values (NULL as null).</summary>
    public static async Task<List<object?[]>> QueryAsync(string databasePath, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly;Pooling=False;Default Timeout=10");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>Waits until the dead-letter table holds <paramref name="expected"/> rows; fails if it does not within the timeout.</summary>
    public static async Task WaitForRejectedAsync(string databasePath, long expected)
    {
        long last = -1;
        var reached = await Eventually.TrueAsync(
            async () => File.Exists(databasePath)
                && (last = (long)(await QueryAsync(databasePath, "SELECT COUNT(*) FROM rejected_events"))[0][0]!) == expected,
            Patience.Default);
        Assert.True(reached, $"Expected {expected} rejected events, found {last}.");
    }

    /// <summary>
    /// Events waiting in a spill folder: one per non-empty line of its segments. A running service may replay and
    /// delete a segment while it is counted: that one holds nothing any more.
    /// </summary>
    public static int CountSpilledEvents(string spillFolder) => !Directory.Exists(spillFolder) ? 0
        : Directory.GetFiles(spillFolder, "*.jsonl").Sum(f => Lines(f).Count(l => l.Length > 0));

    /// <summary>The messageIds of the events waiting in a spill folder (a segment replayed meanwhile holds none).</summary>
    public static IEnumerable<string> SpilledIds(string spillFolder) => !Directory.Exists(spillFolder) ? []
        : Directory.GetFiles(spillFolder, "*.jsonl").SelectMany(Lines).Where(l => l.Length > 0)
            .Select(MessageId);

    private static string MessageId(string line)
    {
        using var json = System.Text.Json.JsonDocument.Parse(line);
        return json.RootElement.GetProperty("messageId").GetString()!;
    }

    private static List<string> Lines(string segment)
    {
        try
        {
            return [.. File.ReadLines(segment)];
        }
        catch (FileNotFoundException)
        {
            return []; // replayed meanwhile
        }
    }

    /// <summary>Holds an exclusive lock on the store until disposed, as a long-running writer would.</summary>
    public static async Task<SqliteConnection> LockAsync(string databasePath)
    {
        var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        await connection.OpenAsync();
        await using var begin = connection.CreateCommand();
        begin.CommandText = "BEGIN EXCLUSIVE";
        await begin.ExecuteNonQueryAsync();
        return connection;
    }
}
