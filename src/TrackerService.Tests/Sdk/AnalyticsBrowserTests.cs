using Microsoft.Data.Sqlite;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sdk;

/// <summary>
/// Segment's browser SDK, <c>@segment/analytics-next</c>, unmodified, in headless Debian chromium (playwright-core): a
/// page on one origin sends to the real service on another, so every call is a CORS request with a preflight (the SDK
/// sends <c>Authorization: Basic</c>). One request per call to <c>/v1/{p,t,s,i,g,a}</c>, or batches to <c>/v1/b</c>.
/// Nothing leaves the machine (chromium resolves only 127.0.0.1, and the script reports any other request).
/// Needs node, npm and chromium: skipped without them, except under CI.
/// </summary>
public sealed class AnalyticsBrowserTests : IDisposable
{
    private const int Count = 5;

    private static readonly string[] MustBeEmpty = ["failedDeliveries", "undelivered", "consoleErrors", "pageErrors", "requestsFailed", "external"];

    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-sdk-browser-").FullName;

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

    [SkippableTheory]
    [InlineData("standard")]
    [InlineData("batching")]
    public async Task StoresEveryCallOfABrowserOnAnotherOriginOnceWithoutACorsError(string delivery)
    {
        var chromium = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";
        Skip.If(!File.Exists(chromium) && !NodeSdk.InCi, $"No chromium at {chromium}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH.");
        Assert.True(File.Exists(chromium), $"CI must have chromium at {chromium} (.ci/run installs it).");
        var key = SdkStore.NewKey();
        await using var service = await SdkStore.StartServiceAsync(_folder, key);
        var run = SdkStore.NewRun("b");

        // When a visitor's browser makes 5 page, 5 track and 5 screen calls anonymously, identifies (5 times), then 5 group and 5 alias calls
        var startedAt = DateTime.UtcNow.AddSeconds(-1).ToString("O");
        var summary = await NodeSdk.RunAsync("browser-sdk.js",
        [
            "--api", service.Client.BaseAddress!.ToString().TrimEnd('/'), "--write-key", key, "--run", run,
            "--count", $"{Count}", "--chromium", chromium, "--delivery", delivery,
        ], TimeSpan.FromSeconds(75));
        var endedAt = DateTime.UtcNow.AddSeconds(1).ToString("O");

        // Then the browser saw no CORS or other error, no failed request, nothing sent off the machine, and only 2xx answers
        foreach (var list in MustBeEmpty)
        {
            Assert.True(summary.GetProperty(list).GetArrayLength() == 0, $"{list} is not empty: {summary}");
        }

        var responses = summary.GetProperty("responses").EnumerateObject().ToList();
        Assert.True(responses.Count > 0 && responses.All(r => r.Name.Split(' ')[^1].StartsWith('2')),
            $"Answers other than 2xx: {summary}");
        Assert.Equal(6 * Count, summary.GetProperty("calls").EnumerateObject().Sum(c => c.Value.GetInt32()));

        // And after a clean stop, each call is stored exactly once with its fields, under the write key's source
        await SdkStore.StopCleanlyAsync(service);
        var db = service.DatabasePath;
        await SdkStore.AssertRunStoredAsync(db, run, 6 * Count);
        var common = SdkStore.CommonConditions(startedAt, endedAt);
        foreach (var (type, conditions) in BrowserCalls.Conditions(run, summary))
        {
            await SdkStore.AssertRowsAsync(db, $"analytics-next {type}", $"type = '{type}' AND message_id LIKE '{run}-{type}-%'",
                $"{common}\nAND {conditions}", Count);
        }
    }
}
