using System.Text.Json;
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

    private static readonly string[] NoneOf401 = ["requestsFailed", "external", "pageErrors"];

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
        RequireChromium();
        var key = SdkStore.NewKey();
        await using var service = await SdkStore.StartServiceAsync(_folder, key);
        var run = SdkStore.NewRun("b");

        // When a visitor's browser makes 5 page, 5 track and 5 screen calls anonymously, identifies (5 times), then 5 group and 5 alias calls
        var startedAt = DateTime.UtcNow.AddSeconds(-1).ToString("O");
        var summary = await VisitAsync(service, key, run, delivery);
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

    [SkippableFact]
    public async Task ABrowserWithAnUnknownWriteKeySeesThe401NotACorsErrorAndNothingIsStored()
    {
        RequireChromium();
        await using var service = await SdkStore.StartServiceAsync(_folder, SdkStore.NewKey());
        var run = SdkStore.NewRun("x");

        // When the page's write key is one the service does not know
        var summary = await VisitAsync(service, SdkStore.NewKey(), run, "standard");

        // Then every call fails with the 401 itself (the answer carries CORS headers, so the SDK can read it and drop
        // the event instead of retrying it as a network error), and nothing was blocked or sent off the machine
        var failures = summary.GetProperty("failedDeliveries").EnumerateArray().Select(f => f.GetString()!).ToList();
        Assert.True(failures.Count == 6 * Count && failures.All(f => f.Contains("401", StringComparison.Ordinal)), $"Expected 30 calls failed with 401: {summary}");
        Assert.True(summary.GetProperty("consoleErrors").EnumerateArray().All(e => !e.GetString()!.Contains("CORS", StringComparison.Ordinal)), $"CORS errors: {summary}");
        foreach (var list in NoneOf401)
        {
            Assert.True(summary.GetProperty(list).GetArrayLength() == 0, $"{list} is not empty: {summary}");
        }

        Assert.True(summary.GetProperty("responses").EnumerateObject().All(r => r.Name.EndsWith(" 401", StringComparison.Ordinal)), $"Answers other than 401: {summary}");

        // And nothing of it is stored, not even as a dead letter
        await SdkStore.StopCleanlyAsync(service);
        await SdkStore.AssertRunStoredAsync(service.DatabasePath, run, 0);
        Assert.Equal(0, await SdkStore.CountRejectedAsync(service.DatabasePath, $"{run}-%"));
    }

    private static string Chromium => Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";

    private static void RequireChromium()
    {
        Skip.If(!File.Exists(Chromium) && !NodeSdk.InCi, $"No chromium at {Chromium}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH.");
        Assert.True(File.Exists(Chromium), $"CI must have chromium at {Chromium} (.ci/run installs it).");
    }

    private static Task<JsonElement> VisitAsync(ServiceProcess service, string key, string run, string delivery) =>
        NodeSdk.RunAsync("browser-sdk.js",
        [
            "--api", service.Client.BaseAddress!.ToString().TrimEnd('/'), "--write-key", key, "--run", run,
            "--count", $"{Count}", "--chromium", Chromium, "--delivery", delivery,
        ], TimeSpan.FromSeconds(75));
}
