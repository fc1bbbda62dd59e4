using TrackerService.Events;

namespace TrackerService.Api;

/// <summary>
/// Which of the two contracts an event is read under: <c>POST /events</c>'s (a missing type is <c>track</c>, ids are
/// strings), or the Segment tracking API's, which adds the spec's per-type rules and takes ids sent as numbers.
/// </summary>
/// <param name="Segment">The Segment API's rules (<c>/v1/*</c>).</param>
/// <param name="CallType">The type a single call's path gives (<c>/v1/track</c>); null in a batch, where each event says its own.</param>
internal readonly record struct EventRules(bool Segment, EventType? CallType = null)
{
    /// <summary><c>POST /events</c>, and spill replay: what every stored event keeps.</summary>
    public static EventRules Events => default;

    /// <summary>An event of a <c>/v1/batch</c>: its <c>type</c> is required.</summary>
    public static EventRules SegmentBatch => new(Segment: true);

    /// <summary>A single call, whose type is its path's.</summary>
    public static EventRules SegmentCall(EventType type) => new(Segment: true, type);
}
