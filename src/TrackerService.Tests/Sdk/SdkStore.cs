using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sdk;

/// <summary>Checks of what the SDK tests left in the service's SQLite store, with the offending row in the message.</summary>
internal static class SdkStore
{
    /// <summary>The settings that give the service one write key, whose id is what the events' <c>source</c> must say.</summary>
    public const string SourceId = "sdk-test";

    public static Dictionary<string, string> WriteKeySettings(string key) => new()
    {
        ["Tracker__WriteKeys__0__Id"] = SourceId,
        ["Tracker__WriteKeys__0__Key"] = key,
    };

    /// <summary>Makes sure the Node side is there (<see cref="NodeSdk.RequireAsync"/>), then starts the service with the one write key.</summary>
    public static async Task<ServiceProcess> StartServiceAsync(string folder, string key)
    {
        await NodeSdk.RequireAsync();
        return await ServiceProcess.StartAsync(folder, WriteKeySettings(key));
    }

    /// <summary>SIGTERM, and a clean exit: everything the service accepted is in the store when this returns.</summary>
    public static async Task StopCleanlyAsync(ServiceProcess service)
    {
        var (exitCode, _) = await service.TerminateAsync(Patience.Default * 2);
        Assert.True(exitCode == 0, $"The service exited {exitCode}:\n{service.Output}");
    }

    /// <summary>The conditions every SDK event must meet: its source, and its times as the spec corrects them.</summary>
    /// <remarks>
    /// timestamp = receivedAt - (sentAt - originalTimestamp); with the client's clock right (same machine) the corrected
    /// time is the client's plus the request's transit, so within seconds of it (10 s: a loaded CI machine), and never
    /// later than the receipt. Only a skewed clock tells a correction from none: see the clock test. The client's time lies
    /// between the script's start and end. SQLite's julianday reads the stores' ISO-8601 text.
    /// </remarks>
    public static string CommonConditions(string startedAt, string endedAt) => $"""
        source = '{SourceId}'
        AND received_at IS NOT NULL AND sent_at IS NOT NULL AND original_timestamp IS NOT NULL AND timestamp IS NOT NULL
        AND julianday(original_timestamp) BETWEEN julianday('{startedAt}') - 1.0 / 86400 AND julianday('{endedAt}') + 1.0 / 86400
        AND julianday(sent_at) >= julianday(original_timestamp) - 1.0 / 86400
        AND abs(julianday(timestamp) - julianday(original_timestamp)) * 86400 < 10
        AND julianday(timestamp) <= julianday(received_at) + 2.0 / 86400
        """;

    /// <summary>
    /// Asserts that exactly <paramref name="expected"/> rows of <paramref name="filter"/> meet <paramref name="conditions"/>;
    /// otherwise fails with how many there are and one row of the filter that does not meet them.
    /// </summary>
    public static async Task AssertRowsAsync(string databasePath, string what, string filter, string conditions, long expected)
    {
        var matching = await StoreReader.CountAsync(databasePath, $"({filter}) AND ({conditions})");
        if (matching == expected)
        {
            return;
        }

        var all = await StoreReader.CountAsync(databasePath, filter);
        var offender = await FirstRowAsync(databasePath, $"({filter}) AND NOT coalesce(({conditions}), 0)");
        Assert.Fail($"{what}: expected {expected} rows as specified, {matching} are (of {all} rows where {filter}).\n"
            + $"Conditions: {conditions}\nA row that does not meet them: {offender ?? "(none)"}");
    }

    /// <summary>
    /// Asserts that the store holds exactly <paramref name="expected"/> events of the run (message ids <c>RUN-...</c>);
    /// otherwise fails with the count per type and the run's dead letters, with their reasons.
    /// </summary>
    public static async Task AssertRunStoredAsync(string databasePath, string run, long expected)
    {
        var stored = await StoreReader.CountAsync(databasePath, $"message_id LIKE '{run}-%'");
        if (stored == expected)
        {
            return;
        }

        await using var connection = await OpenAsync(databasePath);
        var perType = await ListAsync(connection, $"SELECT type || ': ' || COUNT(*) FROM events WHERE message_id LIKE '{run}-%' GROUP BY type");
        var dead = await ListAsync(connection, $"SELECT message_id || ' (' || reason || ', ' || coalesce(field, '-') || ')' FROM rejected_events WHERE message_id LIKE '{run}-%' LIMIT 5");
        Assert.Fail($"Expected {expected} events of run {run} stored, found {stored} ({string.Join(", ", perType)}). "
            + $"Dead letters of the run: {(dead.Count == 0 ? "none" : string.Join("; ", dead))}");
    }

    /// <summary>Rows of the dead-letter table whose message id matches <paramref name="messageIdLike"/>.</summary>
    public static async Task<long> CountRejectedAsync(string databasePath, string messageIdLike)
    {
        await using var connection = await OpenAsync(databasePath);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM rejected_events WHERE message_id LIKE $like";
        command.Parameters.AddWithValue("$like", messageIdLike);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A random write key, as an operator would make one.</summary>
    public static string NewKey() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    /// <summary>A run id that no other run's message ids start with.</summary>
    public static string NewRun(string kind) => $"{kind}{Guid.NewGuid():N}"[..12];

    private static async Task<string?> FirstRowAsync(string databasePath, string where)
    {
        await using var connection = await OpenAsync(databasePath);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM events WHERE {where} LIMIT 1";
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }

        var row = new StringBuilder();
        for (var column = 0; column < reader.FieldCount; column++)
        {
            var value = reader.IsDBNull(column) ? "NULL" : Convert.ToString(reader.GetValue(column), CultureInfo.InvariantCulture);
            row.Append(CultureInfo.InvariantCulture, $"{reader.GetName(column)}={value}; ");
        }

        return row.ToString();
    }

    private static async Task<List<string>> ListAsync(SqliteConnection connection, string query)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = query;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    private static async Task<SqliteConnection> OpenAsync(string databasePath)
    {
        var connection = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly;Pooling=False;Default Timeout=10");
        await connection.OpenAsync();
        return connection;
    }
}
