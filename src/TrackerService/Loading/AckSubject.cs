using System.Globalization;

namespace TrackerService.Loading;

/// <summary>
/// What a JetStream message's reply subject (its ack subject, <c>$JS.ACK.…</c>) says about its deliveries, read
/// without the client's <c>Metadata</c>: that one splits the subject into strings and parses every token, for each
/// message, which was a twelfth of the loader's CPU time, when a batch only needs to know how often each message was
/// delivered (the redelivered count of its span and metric).
/// </summary>
/// <remarks>
/// The subject's tokens, as the server writes them (ADR-15): <c>$JS.ACK.{stream}.{consumer}.{delivered}.{stream seq}.
/// {consumer seq}.{timestamp}.{pending}</c>, nine; or, with a domain and an account hash after <c>ACK</c>, eleven or
/// twelve, the delivery count seventh.
/// </remarks>
internal static class AckSubject
{
    /// <summary>How many times the stream has delivered the message, this time included; null for a subject of another shape.</summary>
    public static ulong? Delivered(string? replyTo)
    {
        if (replyTo is null || !replyTo.StartsWith("$JS.ACK.", StringComparison.Ordinal))
        {
            return null;
        }

        var subject = replyTo.AsSpan();
        Span<Range> tokens = stackalloc Range[13];
        var at = subject.Split(tokens, '.') switch
        {
            9 => 4,
            11 or 12 => 6,
            _ => -1,
        };
        return at >= 0 && ulong.TryParse(subject[tokens[at]], NumberStyles.None, CultureInfo.InvariantCulture, out var delivered) ? delivered : null;
    }
}
