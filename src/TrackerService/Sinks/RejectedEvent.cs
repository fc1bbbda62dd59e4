using TrackerService.Events;

namespace TrackerService.Sinks;

/// <summary>
/// An event that will never be stored as an event, kept in the store's dead-letter table (<c>rejected_events</c>)
/// with why, so that nothing a client was answered 202 for disappears without a trace.
/// </summary>
/// <param name="MessageId">The event's messageId when it has one; a second rejection of the same id is skipped (a replay done again).</param>
/// <param name="Raw">The event as JSON text: what the client sent, or the spill line it was kept in.</param>
/// <param name="Reason">Why it was refused, for a person: the store's error, or the rule it breaks.</param>
/// <param name="ReceivedAt">When the service received it.</param>
/// <param name="Field">The field at fault, when one is.</param>
/// <param name="Source">Where it came from (a write key's id), when known.</param>
internal sealed record RejectedEvent(
    string? MessageId,
    string Raw,
    string Reason,
    DateTimeOffset ReceivedAt,
    string? Field = null,
    string? Source = null)
{
    /// <summary>
    /// The row as the rejected stand-in that carries it where only events travel (a stream's messages): its messageId
    /// (a new one when it has none), receivedAt and source, and its raw, reason and field as the <see cref="EventRejection"/>.
    /// <see cref="FromStandIn"/> turns it back into this row.
    /// </summary>
    public TrackedEvent ToStandIn() =>
        new(MessageId ?? Guid.CreateVersion7(ReceivedAt).ToString(), EventType.Track, null, null, null, null, null, ReceivedAt, null, null, null)
        {
            Source = Source,
            Rejection = new EventRejection(Raw, Reason, Field),
        };

    /// <summary>The dead-letter row of a stand-in (<see cref="TrackedEvent.Rejection"/> set): made at intake, or by <see cref="ToStandIn"/>.</summary>
    public static RejectedEvent FromStandIn(TrackedEvent standIn, EventRejection rejection) =>
        new(standIn.MessageId, rejection.Raw, rejection.Reason, standIn.ReceivedAt, rejection.Field, standIn.Source);
}

/// <summary>The dead-letter table, the same in both stores but for the column types.</summary>
internal static class DeadLetter
{
    public const string Table = "rejected_events";

    public const string Columns = "message_id, reason, field, source, raw, received_at, rejected_at";

    /// <summary>The table for a store whose text and time types are <paramref name="text"/> and <paramref name="time"/>.</summary>
    /// <remarks><c>raw</c> is text, not JSON: what a store refused as JSON must still fit.</remarks>
    public static string Schema(string text, string time) => $"""
        CREATE TABLE IF NOT EXISTS {Table} (
            message_id  {text} UNIQUE,
            reason      {text} NOT NULL,
            field       {text},
            source      {text},
            raw         {text} NOT NULL,
            received_at {time} NOT NULL,
            rejected_at {time} NOT NULL
        );
        """;

    /// <summary>
    /// The raw text as a store's text column takes it: U+0000, which PostgreSQL's text refuses and valid JSON
    /// never holds unescaped, is written as its JSON escape.
    /// </summary>
    public static string Storable(string raw) => raw.Contains('\0', StringComparison.Ordinal) ? raw.Replace("\0", "\\u0000", StringComparison.Ordinal) : raw;
}
