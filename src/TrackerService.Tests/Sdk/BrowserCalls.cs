using System.Text.Json;

namespace TrackerService.Tests.Sdk;

/// <summary>What <c>node/browser-sdk.js</c> sends for call i of each type, as conditions on the stored row (SQLite).</summary>
internal static class BrowserCalls
{
    public static IEnumerable<(string Type, string Conditions)> Conditions(string run, JsonElement summary)
    {
        var anonymousId = summary.GetProperty("anonymousId").GetString();
        var userId = summary.GetProperty("userId").GetString(); // identify's: the SDK puts it on every later call
        Assert.Equal($"{run}-buser", userId);
        var origin = summary.GetProperty("origin").GetString();

        // analytics.js fills context with the page, the browser and itself; anonymousId is the SDK's own, on every call.
        var context = $"""
            json_extract(context, '$.library.name') = 'analytics.js' AND json_extract(context, '$.page.url') = '{origin}/'
            AND json_extract(context, '$.userAgent') LIKE '%HeadlessChrome%' AND anonymous_id = '{anonymousId}'
            """;
        string I(string type) => $"substr(message_id, {$"{run}-{type}-".Length + 1})";

        yield return ("page", $"""
            {context} AND user_id IS NULL AND name = 'Browser Page ' || {I("page")} AND category = 'Docs'
            AND json_extract(properties, '$.i') = CAST({I("page")} AS INTEGER) AND json_extract(properties, '$.url') = '{origin}/'
            """);
        yield return ("track", $"""
            {context} AND user_id IS NULL AND event = 'Browser Clicked'
            AND json_extract(properties, '$.i') = CAST({I("track")} AS INTEGER) AND json_extract(properties, '$.button') = 'buy'
            """);
        yield return ("screen", $"""
            {context} AND user_id IS NULL AND name = 'Browser Screen ' || {I("screen")} AND category = 'Onboarding'
            AND json_extract(properties, '$.i') = CAST({I("screen")} AS INTEGER)
            """);
        yield return ("identify", $"""
            {context} AND user_id = '{userId}' AND json_extract(traits, '$.i') = CAST({I("identify")} AS INTEGER)
            AND json_extract(traits, '$.email') = '{run}-buser-' || {I("identify")} || '@example.test'
            """);
        yield return ("group", $"""
            {context} AND user_id = '{userId}' AND group_id = '{run}-borg-' || {I("group")}
            AND json_extract(traits, '$.name') = 'Org ' || {I("group")}
            """);
        yield return ("alias", $"""
            {context} AND user_id = '{userId}' AND previous_id = '{run}-bprev-' || {I("alias")}
            """);
    }
}
