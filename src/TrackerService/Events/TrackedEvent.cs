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
    JsonText? Context);
