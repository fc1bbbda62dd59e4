using System.Buffers;
using TrackerService.Events;
using TrackerService.Spill;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Builds accepted events, and their spill lines, for tests below the HTTP API.</summary>
internal static class TrackedEvents
{
    public static readonly DateTimeOffset ReceivedAt = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static TrackedEvent Track(string messageId) => new(
        messageId, EventType.Track, "Clicked", "user-1", null, null, null, ReceivedAt,
        """{"button":"buy"}""", null, null);

    public static TrackedEvent[] Many(int count, string prefix) =>
        [.. Enumerable.Range(0, count).Select(i => Track($"{prefix}-{i}"))];

    /// <summary>A request of <paramref name="count"/> bare events with ids <c>{name}-0</c>, <c>{name}-1</c>, …</summary>
    public static TrackedEvent[] Request(string name, int count) =>
        [.. Enumerable.Range(0, count).Select(i => One($"{name}-{i}"))];

    /// <summary>A track event with no optional fields.</summary>
    public static TrackedEvent One(string messageId) =>
        new(messageId, EventType.Track, "Tested", "user-1", null, null, null, ReceivedAt, null, null, null);

    /// <summary>A page event with every field of the Segment spec set, a source, and a page's name and category.</summary>
    public static TrackedEvent WithSpecFields(string messageId) =>
        new TrackedEvent(messageId, EventType.Page, null, "user-1", "anon-1", ReceivedAt.AddMinutes(-1), ReceivedAt.AddSeconds(-1), ReceivedAt,
            """{"path":"/docs"}""", """{"plan":"pro"}""", """{"ip":"10.0.0.1"}""")
        {
            Name = "Docs",
            Category = "Help",
            GroupId = "group-1",
            PreviousId = "previous-1",
            OriginalTimestamp = ReceivedAt.AddHours(1),
            Integrations = """{"All":false,"Mixpanel":true}""",
            Source = "web",
        };

    public static string[] Ids(IEnumerable<TrackedEvent> events) => [.. events.Select(e => e.MessageId)];

    /// <summary>The events as spill lines, each ending in a newline, as <see cref="SpillFormat.Write"/> writes them.</summary>
    public static byte[] Lines(params TrackedEvent[] events)
    {
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var e in events)
        {
            SpillFormat.Write(buffer, e);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
