using TrackerService.Api;

namespace TrackerService.Tests;

/// <summary>Builds events whose message ids say which request they came from and where in it.</summary>
internal static class TestEvents
{
    private static readonly DateTimeOffset Received = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>A request of <paramref name="count"/> events with ids <c>{name}-0</c>, <c>{name}-1</c>, …</summary>
    public static TrackedEvent[] Request(string name, int count) =>
        [.. Enumerable.Range(0, count).Select(i => One($"{name}-{i}"))];

    public static TrackedEvent One(string messageId) =>
        new(messageId, EventType.Track, "Tested", "user-1", null, null, null, Received, null, null, null);

    public static string[] Ids(IEnumerable<TrackedEvent> events) => [.. events.Select(e => e.MessageId)];
}
