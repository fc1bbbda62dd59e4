using System.Globalization;
using System.Text;

namespace TrackerService.Benchmarks;

/// <summary>
/// The Segment API's figure: the sample event (<see cref="SampleEvents"/>) as <c>@segment/analytics-node</c> sends it
/// (type, event, userId, messageId, timestamp, properties, <c>context.library</c>, <c>integrations</c>, <c>_metadata</c>;
/// about 390 bytes), in a <c>/v1/batch</c> envelope (<c>{"batch": [...], "writeKey", "sentAt"}</c>) or, for
/// <c>POST /events</c>, the same events as a JSON array: the two bodies differ only by their envelope.
/// </summary>
internal static class NodeSampleEvents
{
    public const string Library = """{"library":{"name":"@segment/analytics-node","version":"2.2.1"}}""";

    public const string Metadata = """{"nodeVersion":"22.12.0","jsRuntime":"node"}""";

    /// <summary>A write key of the shape Segment issues (the service's check is a stub for now).</summary>
    public const string WriteKey = "bench4Kq2Zt8Yp1Lx7Nw3Rv6Hs9Jd0Fc5G";

    public static string Json(string messageId, long i) => string.Create(CultureInfo.InvariantCulture,
        $$"""{"type":"track","event":"{{SampleEvents.Name}}","userId":"{{SampleEvents.UserId(i)}}","properties":{{SampleEvents.Properties(i)}},"context":{{Library}},"integrations":{},"messageId":"{{messageId}}","timestamp":"2026-01-31T12:00:00.000Z","_metadata":{{Metadata}}}""");

    /// <summary>Events <c>{prefix}-{first}</c> to <c>{prefix}-{first + count − 1}</c>: a <c>/v1/batch</c> envelope, or a JSON array for <c>/events</c>.</summary>
    public static byte[] Body(string prefix, long first, int count, bool envelope)
    {
        var json = new StringBuilder((count * 400) + 128);
        json.Append(envelope ? "{\"batch\":[" : "[");
        for (var k = 0; k < count; k++)
        {
            json.Append(k > 0 ? "," : "").Append(Json(SampleEvents.Id(prefix, first + k), first + k));
        }

        json.Append(']');
        if (envelope)
        {
            json.Append(CultureInfo.InvariantCulture, $",\"writeKey\":\"{WriteKey}\",\"sentAt\":\"2026-01-31T12:00:01.250Z\"}}");
        }

        return Encoding.UTF8.GetBytes(json.ToString());
    }
}
