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
}
