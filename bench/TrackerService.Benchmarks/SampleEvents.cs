using System.Globalization;
using System.Text;
using TrackerService.Events;

namespace TrackerService.Benchmarks;

/// <summary>
/// The one event shape every figure uses: a Segment <c>track</c> call of about 330 bytes, with properties and
/// context, as analytics.js sends it. The HTTP bodies and the rows written straight to a store are the same event.
/// </summary>
internal static class SampleEvents
{
    public const string Name = "Order Completed";
    public const string Context = """{"ip":"203.0.113.7","library":{"name":"analytics.js","version":"5.2.0"}}""";

    public static readonly DateTimeOffset Timestamp = new(2026, 1, 31, 12, 0, 0, TimeSpan.Zero);

    public static string UserId(long i) => string.Create(CultureInfo.InvariantCulture, $"user-{i % 1000}");

    public static string Properties(long i) => string.Create(CultureInfo.InvariantCulture,
        $$"""{"order_id":"o-{{i}}","total":{{i % 500 * 1.5}},"currency":"EUR","products":[{"sku":"A-1","qty":2}]}""");

    /// <summary>One event as JSON; without <paramref name="messageId"/> the service assigns one.</summary>
    public static string Json(string? messageId, long i)
    {
        var id = messageId is null ? "" : $"\"messageId\":\"{messageId}\",";
        return string.Create(CultureInfo.InvariantCulture,
            $$"""{"type":"track","event":"{{Name}}","userId":"{{UserId(i)}}",{{id}}"timestamp":"2026-01-31T12:00:00.000Z","properties":{{Properties(i)}},"context":{{Context}}}""");
    }

    /// <summary>
    /// A request body: one event object when <paramref name="count"/> is 1 (what a single-event client sends),
    /// otherwise an array. Message ids are <c>{prefix}-{first + k}</c>, or left to the service when prefix is null.
    /// </summary>
    public static byte[] Body(string? prefix, long first, int count)
    {
        if (count == 1)
        {
            return Encoding.UTF8.GetBytes(Json(prefix is null ? null : Id(prefix, first), first));
        }

        var json = new StringBuilder(count * 340);
        json.Append('[');
        for (var k = 0; k < count; k++)
        {
            if (k > 0)
            {
                json.Append(',');
            }

            json.Append(Json(prefix is null ? null : Id(prefix, first + k), first + k));
        }

        return Encoding.UTF8.GetBytes(json.Append(']').ToString());
    }

    public static string Id(string prefix, long i) => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}");

    /// <summary>The event as the service holds it after parsing, for writing straight to a store.</summary>
    public static TrackedEvent Tracked(string messageId, long i, DateTimeOffset receivedAt) =>
        new(messageId, EventType.Track, Name, UserId(i), null, Timestamp, null, receivedAt, Properties(i), null, Context);

    /// <summary>A short random prefix, so the message ids of one run never collide with an earlier run's.</summary>
    public static string NewPrefix() => Guid.NewGuid().ToString("N")[..10];
}
