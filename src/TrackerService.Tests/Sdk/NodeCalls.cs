namespace TrackerService.Tests.Sdk;

/// <summary>
/// What <c>node/node-sdk.js</c> sends for call i of each type, as conditions on the stored row (SQLite): the same scheme
/// as the script's (messageId <c>RUN-TYPE-i</c>, userId <c>RUN-user-i</c>, anonymousId <c>RUN-anon-i</c>), so each
/// spec field is checked in its own column for every one of the calls.
/// </summary>
internal static class NodeCalls
{
    public static IEnumerable<(string Type, string Conditions)> Conditions(string run)
    {
        // Every call carries context.app (the script's) merged with the SDK's context.library.
        var context = $"""
            json_extract(context, '$.library.name') = '@segment/analytics-node' AND json_extract(context, '$.library.version') = '3.1.0'
            AND json_extract(context, '$.app.build') = '{run}'
            """;
        string I(string type) => $"substr(message_id, {$"{run}-{type}-".Length + 1})";
        string User(string type) => $"user_id = '{run}-user-' || {I(type)}";
        string Anon(string type) => $"anonymous_id = '{run}-anon-' || {I(type)}";

        yield return ("track", $"""
            {context} AND event = 'SDK Order Completed' AND {User("track")} AND anonymous_id IS NULL
            AND json_extract(properties, '$.i') = CAST({I("track")} AS INTEGER) AND json_extract(properties, '$.run') = '{run}'
            AND json_extract(properties, '$.revenue') = CAST({I("track")} AS INTEGER) + 0.5 AND json_extract(properties, '$.currency') = 'EUR'
            AND json_extract(integrations, '$.All') = 1 AND json_extract(integrations, '$.Mixpanel') = 0
            AND group_id IS NULL AND previous_id IS NULL
            """);
        yield return ("identify", $"""
            {context} AND {User("identify")} AND {Anon("identify")}
            AND json_extract(traits, '$.email') = '{run}-user-' || {I("identify")} || '@example.test'
            AND json_extract(traits, '$.plan') = 'pro' AND json_extract(traits, '$.i') = CAST({I("identify")} AS INTEGER)
            """);
        yield return ("page", $"""
            {context} AND {Anon("page")} AND user_id IS NULL AND name = 'Page ' || {I("page")} AND category = 'Docs'
            AND json_extract(properties, '$.path') = '/docs/' || {I("page")} AND json_extract(properties, '$.i') = CAST({I("page")} AS INTEGER)
            """);
        yield return ("screen", $"""
            {context} AND {User("screen")} AND {Anon("screen")} AND name = 'Screen ' || {I("screen")} AND category = 'Onboarding'
            AND json_extract(properties, '$.i') = CAST({I("screen")} AS INTEGER)
            """);
        yield return ("group", $"""
            {context} AND {User("group")} AND group_id = '{run}-org-' || {I("group")}
            AND json_extract(traits, '$.name') = 'Org ' || {I("group")} AND json_extract(traits, '$.i') = CAST({I("group")} AS INTEGER)
            """);
        yield return ("alias", $"""
            {context} AND {User("alias")} AND previous_id = '{run}-anon-' || {I("alias")}
            """);
    }
}
