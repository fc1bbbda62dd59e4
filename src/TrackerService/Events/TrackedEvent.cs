using System.Diagnostics;

namespace TrackerService.Events;

/// <summary>
/// One accepted event, as it travels from the request to the store. Object-valued fields
/// (<see cref="Properties"/>, <see cref="Traits"/>, <see cref="Context"/>, <see cref="Integrations"/>) are kept as the
/// client's raw JSON text (UTF-8): the service validates their shape but never re-serializes them.
/// </summary>
/// <param name="Timestamp">When it happened: the client's time, corrected for its clock's skew on the Segment API.</param>
internal sealed record TrackedEvent(
    string MessageId,
    EventType Type,
    string? Event,
    string? UserId,
    string? AnonymousId,
    DateTimeOffset? Timestamp,
    DateTimeOffset? SentAt,
    DateTimeOffset ReceivedAt,
    JsonText? Properties,
    JsonText? Traits,
    JsonText? Context)
{
    /// <summary>
    /// The event object and its references (a 64-bit runtime), without the strings and arrays they point to; 32 of
    /// them are <see cref="Origin"/>, whose id strings are the request span's own, shared by its events.
    /// </summary>
    private const int ObjectBytes = 216;

    /// <summary>A page's or screen's name.</summary>
    public string? Name { get; init; }

    /// <summary>A page's category.</summary>
    public string? Category { get; init; }

    /// <summary>The group a group call joins the user to.</summary>
    public string? GroupId { get; init; }

    /// <summary>The id an alias call merges into <see cref="UserId"/>.</summary>
    public string? PreviousId { get; init; }

    /// <summary>The time the client said, before any skew correction.</summary>
    public DateTimeOffset? OriginalTimestamp { get; init; }

    /// <summary>The client's <c>integrations</c> object: which destinations the event is for.</summary>
    public JsonText? Integrations { get; init; }

    /// <summary>The id of the write key it came with (never the key); null when sent without one.</summary>
    public string? Source { get; init; }

    /// <summary>
    /// Set when the event broke the contract at intake on the Segment API: it travels the same way as the others
    /// (queue, spill, replay), so that what the client was answered for is kept, and goes to the dead-letter table.
    /// </summary>
    public EventRejection? Rejection { get; init; }

    /// <summary>
    /// The span of the intake request the event came with, so that what carries it on (a stream's message headers)
    /// can link back to it. Not part of the event's line (<see cref="EventLine"/>): default when unknown, as for an
    /// event read back from the spill or the write-ahead log.
    /// </summary>
    public ActivityContext Origin { get; init; }

    /// <summary>
    /// About what the event takes in memory, in bytes: the object, its strings (UTF-16) and its JSON text (UTF-8),
    /// with their headers. What the queue and the shutdown's spill reserve count, so that large events are bounded
    /// by their size and not only by their number.
    /// </summary>
    public long MemoryBytes =>
        ObjectBytes + StringBytes(MessageId) + StringBytes(Event) + StringBytes(UserId) + StringBytes(AnonymousId)
        + StringBytes(Name) + StringBytes(Category) + StringBytes(GroupId) + StringBytes(PreviousId) + StringBytes(Source)
        + JsonBytes(Properties) + JsonBytes(Traits) + JsonBytes(Context) + JsonBytes(Integrations)
        + (Rejection is { } r ? 64 + StringBytes(r.Raw) + StringBytes(r.Reason) + StringBytes(r.Field) : 0);

    /// <summary>
    /// How many of the first <paramref name="count"/> events were accepted (not <see cref="Rejection"/> stand-ins):
    /// what the spill's count adds up, so that accepted = stored + duplicates + spilled holds with rejections aboard.
    /// </summary>
    public static int CountAccepted(IReadOnlyList<TrackedEvent> events, int count)
    {
        var accepted = 0;
        for (var i = 0; i < count; i++)
        {
            accepted += events[i].Rejection is null ? 1 : 0;
        }

        return accepted;
    }

    private static long StringBytes(string? value) => value is null ? 0 : 24 + 2L * value.Length;

    private static long JsonBytes(JsonText? value) => value is null ? 0 : 48 + value.Utf8.Length;
}

/// <summary>Why an event was refused at intake, and what the client sent.</summary>
/// <param name="Raw">The event's JSON as the client sent it.</param>
/// <param name="Reason">The rule it breaks, for a person.</param>
/// <param name="Field">The field at fault, when one is.</param>
internal sealed record EventRejection(string Raw, string Reason, string? Field);
