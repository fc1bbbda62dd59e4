using System.Net;
using TrackerService.Events;

namespace TrackerService.Api;

/// <summary>
/// What the Segment API adds to an event once it is read: the envelope's <c>sentAt</c>, <c>context</c> and
/// <c>integrations</c>, the sender's IP, the write key's source, and the time corrected for the client's clock.
/// </summary>
internal static class SegmentEvents
{
    private const string Ip = "ip";

    /// <param name="ip">The connection's address, or null to leave <c>context.ip</c> out altogether.</param>
    public static TrackedEvent Complete(TrackedEvent e, SegmentParseResult envelope, string? ip, string? source)
    {
        if (e.Rejection is not null)
        {
            return e with { Source = source };
        }

        var sentAt = e.SentAt ?? envelope.SentAt;
        var original = e.OriginalTimestamp ?? e.Timestamp;
        return e with
        {
            SentAt = sentAt,
            OriginalTimestamp = original,
            Timestamp = Corrected(e.ReceivedAt, sentAt, original),
            Context = ip is null ? JsonMerge.Merge(e.Context, envelope.Context, dropName: Ip) : JsonMerge.Merge(e.Context, envelope.Context, Ip, ip),
            Integrations = JsonMerge.Merge(e.Integrations, envelope.Integrations),
            Source = source,
        };
    }

    /// <summary>
    /// Segment's clock-skew correction: the client's clock may be off, but the time between its event and its send is
    /// not, so <c>timestamp = receivedAt − (sentAt − originalTimestamp)</c>. Without <c>sentAt</c> the client's time is
    /// kept; without any, the time it was received. A correction that leaves the range a time may have keeps the
    /// client's time instead: a clock that far off says nothing about the interval.
    /// </summary>
    public static DateTimeOffset Corrected(DateTimeOffset receivedAt, DateTimeOffset? sentAt, DateTimeOffset? original)
    {
        if (original is not { } happened)
        {
            return receivedAt;
        }

        if (sentAt is not { } sent)
        {
            return happened;
        }

        var ticks = receivedAt.UtcTicks - (sent.UtcTicks - happened.UtcTicks);
        return ticks >= EventTime.Earliest.UtcTicks && ticks < EventTime.Latest.UtcTicks ? new DateTimeOffset(ticks, TimeSpan.Zero) : happened;
    }

    /// <summary>The connection's address as text, an IPv4 address mapped into IPv6 written as IPv4.</summary>
    public static string? Address(IPAddress? address) =>
        address is null ? null : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
}
