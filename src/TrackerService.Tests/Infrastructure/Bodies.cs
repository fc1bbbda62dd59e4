using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Builds request bodies for tests.</summary>
internal static class Bodies
{
    public static object Track(string? messageId = null, string name = "Clicked", string userId = "user-1") =>
        messageId is null
            ? new { @event = name, userId, properties = new { button = "buy" } }
            : new { @event = name, userId, messageId, properties = new { button = "buy" } };

    public static StringContent Json(object body) =>
        new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    public static StringContent Raw(string body, string mediaType = "application/json") =>
        new(body, new MediaTypeHeaderValue(mediaType));

    public static object[] Batch(int count, string prefix) =>
        [.. Enumerable.Range(0, count).Select(i => Track($"{prefix}-{i}"))];

    /// <summary>
    /// A request of <paramref name="count"/> events of about 30 KB each (2,150 short properties), as
    /// bench/lib/large-body.py writes them: the largest events the API takes, 16 to a body of its default limit.
    /// </summary>
    public static StringContent Large(string prefix, int count = 16)
    {
        var properties = string.Join(',', Enumerable.Range(0, 2150).Select(i => $"\"p{i:D4}\":\"v{i % 100:D2}\""));
        var events = Enumerable.Range(0, count).Select(i => $$$"""{"event":"Large","userId":"user-1","messageId":"{{{prefix}}}-{{{i}}}","properties":{{{{properties}}}}}""");
        return new StringContent($"[{string.Join(',', events)}]", Encoding.UTF8, "application/json");
    }
}
