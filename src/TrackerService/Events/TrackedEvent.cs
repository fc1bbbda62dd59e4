namespace TrackerService.Events;

/// <summary>
/// One accepted event, as it travels from the request to the store. Object-valued fields
/// (<see cref="Properties"/>, <see cref="Traits"/>, <see cref="Context"/>) are kept as the
/// client's raw JSON text (UTF-8): the service validates their shape but never re-serializes them.
/// </summary>
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
    /// <summary>The event object and its references (a 64-bit runtime), without the strings and arrays they point to.</summary>
    private const int ObjectBytes = 128;

    /// <summary>
    /// About what the event takes in memory, in bytes: the object, its strings (UTF-16) and its JSON text (UTF-8),
    /// with their headers. What the queue and the shutdown's spill reserve count, so that large events are bounded
    /// by their size and not only by their number.
    /// </summary>
    public long MemoryBytes =>
        ObjectBytes + StringBytes(MessageId) + StringBytes(Event) + StringBytes(UserId) + StringBytes(AnonymousId)
        + JsonBytes(Properties) + JsonBytes(Traits) + JsonBytes(Context);

    private static long StringBytes(string? value) => value is null ? 0 : 24 + 2L * value.Length;

    private static long JsonBytes(JsonText? value) => value is null ? 0 : 48 + value.Utf8.Length;
}
