using TrackerService.Events;

namespace TrackerService.Api;

/// <summary>
/// A Segment API body, parsed: the request's events in their order, valid or not (an invalid one carries its
/// <see cref="TrackedEvent.Rejection"/>), and what the envelope says for all of them. Or, when the body is not JSON or
/// not an envelope, why (<see cref="Malformed"/>, 400; <see cref="TooLarge"/>, 413), and no events.
/// </summary>
internal sealed class SegmentParseResult
{
    public required TrackedEvent[] Events { get; init; }

    /// <summary>How many of <see cref="Events"/> are invalid.</summary>
    public int Rejected { get; init; }

    /// <summary>The envelope's (or a single call's) <c>writeKey</c>.</summary>
    public string? WriteKey { get; init; }

    /// <summary>The envelope's <c>sentAt</c>, for the events without their own.</summary>
    public DateTimeOffset? SentAt { get; init; }

    /// <summary>The envelope's <c>context</c> and <c>integrations</c>, merged under each event's own.</summary>
    public JsonText? Context { get; init; }

    public JsonText? Integrations { get; init; }

    /// <summary>Why the body as a whole is refused with 400.</summary>
    public string? Malformed { get; init; }

    /// <summary>Why the body as a whole is refused with 413.</summary>
    public string? TooLarge { get; init; }

    public static SegmentParseResult MalformedBody(string detail) => new() { Events = [], Malformed = detail };

    public static SegmentParseResult TooLargeBody(string detail) => new() { Events = [], TooLarge = detail };
}
