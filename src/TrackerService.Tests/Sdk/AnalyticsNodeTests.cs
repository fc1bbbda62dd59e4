using System.Text.Json;
using Microsoft.Data.Sqlite;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sdk;

/// <summary>
/// Segment's own server SDK, <c>@segment/analytics-node</c> (pinned in <c>Sdk/node/package-lock.json</c>), unmodified,
/// sending to the real service process: it posts every call type to <c>/v1/batch</c> with the write key as HTTP Basic
/// user (what it sends is in <c>Sdk/README.md</c>). Needs node and npm (skipped without them, except under CI).
/// </summary>
public sealed class AnalyticsNodeTests : IDisposable
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(75);

    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-sdk-node-").FullName;

    private readonly string _key = SdkStore.NewKey();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    [SkippableFact]
    public async Task StoresOneThousandCallsOfEveryTypeOnceWithEverySpecFieldInItsColumn()
    {
        await using var service = await SdkStore.StartServiceAsync(_folder, _key);
        var run = SdkStore.NewRun("n");

        // When the SDK makes 1,000 calls of each of the six types, in batches of 100, and flushes
        var summary = await SendAsync(service, _key, run, count: 1000);

        // Then the SDK saw every call delivered, with 2xx answers only
        AssertDelivered(summary, 6000);

        // And after a clean stop, each call is stored exactly once, every field in its column
        await SdkStore.StopCleanlyAsync(service);
        var db = service.DatabasePath;
        await SdkStore.AssertRunStoredAsync(db, run, 6000);
        Assert.Equal(6000, await StoreReader.CountAsync(db, $"message_id LIKE '{run}-%' AND message_id IN (SELECT message_id FROM events GROUP BY message_id HAVING COUNT(*) = 1)"));
        var common = SdkStore.CommonConditions(summary.GetProperty("startedAt").GetString()!, summary.GetProperty("endedAt").GetString()!);
        foreach (var (type, conditions) in NodeCalls.Conditions(run))
        {
            await SdkStore.AssertRowsAsync(db, $"analytics-node {type}", $"type = '{type}' AND message_id LIKE '{run}-{type}-%'",
                $"{common}\nAND {conditions}", 1000);
        }
    }

    [SkippableFact]
    public async Task RefusesAnUnknownWriteKeyWith401WhichTheSdkReportsAndStoresNothingOfIt()
    {
        await using var service = await SdkStore.StartServiceAsync(_folder, _key);
        var refused = SdkStore.NewRun("u");
        var accepted = SdkStore.NewRun("k");

        // When the SDK sends 300 calls with a key the service does not know
        var summary = await SendAsync(service, SdkStore.NewKey(), refused, count: 50);

        // Then every call fails, and the SDK's error event says 401 for each of them (it does not retry a 401)
        Assert.True(summary.GetProperty("delivered").GetInt32() == 0 && summary.GetProperty("failed").GetInt32() == 300,
            $"Expected all 300 calls failed: {summary}");
        var errors = summary.GetProperty("errors").EnumerateObject().ToList();
        Assert.True(errors.All(e => e.Name.Contains("401", StringComparison.Ordinal)), $"Errors other than 401: {summary}");
        Assert.True(errors.Sum(e => e.Value.GetInt32()) == 300, $"Expected an error for each of the 300 calls: {summary}");
        Assert.True(summary.GetProperty("statuses").EnumerateObject().All(s => s.Name == "401"), $"Answers other than 401: {summary}");

        // And when the right key sends afterwards, and the service stops cleanly
        AssertDelivered(await SendAsync(service, _key, accepted, count: 10), 60);
        await SdkStore.StopCleanlyAsync(service);

        // Then only those are stored: nothing of the refused calls, not even as dead letters
        Assert.Equal(0, await StoreReader.CountAsync(service.DatabasePath, $"message_id LIKE '{refused}-%'"));
        Assert.Equal(60, await StoreReader.CountAsync(service.DatabasePath));
        await SdkStore.AssertRowsAsync(service.DatabasePath, "the right key's calls", $"message_id LIKE '{accepted}-%'", $"source = '{SdkStore.SourceId}'", 60);
        Assert.Equal(0, await SdkStore.CountRejectedAsync(service.DatabasePath, $"{refused}-%"));
    }

    [SkippableFact]
    public async Task CorrectsTheTimestampOfAClientWhoseClockIsAnHourFast()
    {
        await using var service = await SdkStore.StartServiceAsync(_folder, _key);
        var run = SdkStore.NewRun("s");

        // When a client whose clock runs an hour ahead sends (its timestamp and sentAt both an hour ahead)
        AssertDelivered(await SendAsync(service, _key, run, count: 20, clockSkew: TimeSpan.FromHours(1)), 120);
        await SdkStore.StopCleanlyAsync(service);

        // Then original_timestamp keeps the client's time, and timestamp is corrected to the server's (within seconds)
        await SdkStore.AssertRowsAsync(service.DatabasePath, "skewed client", $"message_id LIKE '{run}-%'", """
            (julianday(original_timestamp) - julianday(received_at)) * 86400 BETWEEN 3590 AND 3610
            AND abs(julianday(timestamp) - julianday(received_at)) * 86400 < 10
            AND julianday(timestamp) <= julianday(received_at) + 2.0 / 86400
            """, 120);
    }

    private static Task<JsonElement> SendAsync(ServiceProcess service, string key, string run, int count, TimeSpan? clockSkew = null) =>
        NodeSdk.RunAsync("node-sdk.js",
        [
            "--host", service.Client.BaseAddress!.ToString().TrimEnd('/'), "--write-key", key, "--run", run,
            "--count", $"{count}", "--flush-at", "100", "--clock-skew-ms", $"{(long)(clockSkew ?? TimeSpan.Zero).TotalMilliseconds}",
        ], ScriptTimeout);

    private static void AssertDelivered(JsonElement summary, int calls)
    {
        Assert.True(summary.GetProperty("delivered").GetInt32() == calls && summary.GetProperty("failed").GetInt32() == 0,
            $"Expected {calls} calls delivered and none failed: {summary}");
        Assert.True(summary.GetProperty("statuses").EnumerateObject().All(s => s.Name.StartsWith('2')), $"Answers other than 2xx: {summary}");
    }
}
