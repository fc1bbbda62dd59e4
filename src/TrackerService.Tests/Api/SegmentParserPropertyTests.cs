using System.Text;
using System.Text.Json;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Api;
using TrackerService.Events;

namespace TrackerService.Tests.Api;

/// <summary>
/// Properties of the Segment API's parser (<see cref="SegmentBatchParser"/> and <see cref="SegmentEvents.Complete"/>),
/// over generated bodies: it never throws, whatever the bytes; what it gives is a refusal or events each valid or
/// rejected with why; and a valid envelope's events come out as sent, merged with the envelope, their time corrected.
/// </summary>
public sealed class SegmentParserPropertyTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 31, 12, 0, 0, TimeSpan.Zero);

    private static readonly Gen<EventType?> CallType = Gen.Frequency(
        (3, Gen.Const((EventType?)null)), (1, Gen.OneOf(Enum.GetValues<EventType>()).Select(t => (EventType?)t)));

    /// <summary>Small limits, for the fuzz to reach them.</summary>
    private readonly SegmentBatchParser _parser = new(new ApiOptions { MaxSegmentBatchEvents = 8, MaxEventBytes = 4096 }, new FakeTimeProvider(Now));

    private readonly SegmentBatchParser _defaults = new(new ApiOptions(), new FakeTimeProvider(Now));

    [Fact]
    public void NeverThrowsOnArbitraryBytes() =>
        Gen.Select(Gen.Byte.Array[0, 200], CallType).Sample((body, call) => AssertWellFormed(_parser.Parse(body, call)), iter: 20_000);

    [Fact]
    public void NeverThrowsOnArbitraryJson() =>
        Gen.Select(Gen.Frequency((4, SegmentJsonGen.Value), (1, SegmentJsonGen.Deep)), CallType).Sample(
            (json, call) => AssertWellFormed(_parser.Parse(SegmentJsonGen.ToBytes(json), call)), iter: 20_000);

    [Fact]
    public void NeverThrowsOnEnvelopesOfArbitraryJson() =>
        Gen.Select(SegmentJsonGen.Value.Array[0, 10], SegmentJsonGen.Value, SegmentJsonGen.Value, SegmentJsonGen.Value).Sample(
            (events, sentAt, context, key) => AssertWellFormed(_parser.Parse(SegmentJsonGen.ToBytes(
                $"{{\"batch\":[{string.Join(",", events)}],\"sentAt\":{sentAt},\"context\":{context},\"writeKey\":{key},\"integrations\":{context}}}"), null)),
            iter: 20_000);

    [Fact]
    public void NeverThrowsOnMutatedEnvelopes() =>
        SegmentBatchGen.MutatedEnvelope.SelectMany(json => SegmentJsonGen.Mutated(SegmentJsonGen.ToBytes(json)).Select(bytes => (json, bytes)))
            .Sample((json, bytes) =>
            {
                AssertWellFormed(_parser.Parse(SegmentJsonGen.ToBytes(json), null));
                AssertWellFormed(_parser.Parse(bytes, null));
            }, iter: 10_000);

    [Fact]
    public void NeverThrowsOnMutatedSingleCalls() =>
        Gen.Select(SegmentEventGen.Valid, Gen.Int[0, SegmentBatchGen.Breaks - 1])
            .SelectMany((e, how) => SegmentJsonGen.Mutated(SegmentJsonGen.ToBytes(e.Json)).Select(bytes => (e, how, bytes)))
            .Sample((e, how, bytes) =>
            {
                AssertWellFormed(_parser.Parse(bytes, e.Type));
                var broken = _parser.Parse(Encoding.UTF8.GetBytes(SegmentBatchGen.Break(e, how)), e.Type);
                AssertWellFormed(broken);
                // Without a type a single call is its path's: the one break that leaves it valid.
                Assert.True(how == 0 || broken.Malformed is not null || broken.Rejected == 1, $"break {how} was not refused");
            }, iter: 10_000);

    [Fact]
    public void ValidEnvelopesRoundTrip() =>
        Gen.Select(SegmentBatchGen.Batch(8), Gen.OneOf<string?>(null, "203.0.113.7")).Sample((batch, ip) =>
        {
            var parsed = _defaults.Parse(Encoding.UTF8.GetBytes(batch.Json), null);

            Assert.Null(parsed.Malformed);
            Assert.Null(parsed.TooLarge);
            Assert.Equal(0, parsed.Rejected);
            Assert.Equal(batch.Events.Length, parsed.Events.Length);
            for (var i = 0; i < batch.Events.Length; i++)
            {
                AssertRoundTrip(batch, batch.Events[i], SegmentEvents.Complete(parsed.Events[i], parsed, ip, source: null), ip);
            }
        }, iter: 3_000);

    /// <summary>A refusal with no events, or events each valid or carrying its rejection, counted.</summary>
    internal static void AssertWellFormed(SegmentParseResult parsed)
    {
        if (parsed.Malformed is not null || parsed.TooLarge is not null)
        {
            Assert.Empty(parsed.Events);
            Assert.False(parsed.Malformed is not null && parsed.TooLarge is not null);
            return;
        }

        Assert.Equal(parsed.Events.Count(e => e.Rejection is not null), parsed.Rejected);
        foreach (var e in parsed.Events)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.MessageId));
            if (e.Rejection is { } r)
            {
                Assert.False(string.IsNullOrEmpty(r.Reason));
                Assert.False(string.IsNullOrEmpty(r.Field));
                Assert.False(string.IsNullOrEmpty(r.Raw));
                continue;
            }

            Assert.True(e.UserId is not null || e.AnonymousId is not null);
            Assert.True(e.Type != EventType.Track || e.Event is not null);
            Assert.True(e.Type != EventType.Group || e.GroupId is not null);
            Assert.True(e.Type != EventType.Alias || (e.PreviousId is not null && e.UserId is not null));
            foreach (var json in new[] { e.Properties, e.Traits, e.Context, e.Integrations })
            {
                Assert.True(json is null || System.Text.Unicode.Utf8.IsValid(json.Utf8));
            }
        }
    }

    private static void AssertRoundTrip(GenBatch batch, GenEvent sent, TrackedEvent e, string? ip)
    {
        Assert.Null(e.Rejection);
        Assert.Equal(sent.Type, e.Type);
        if (sent.MessageId is not null)
        {
            Assert.Equal(sent.MessageId, e.MessageId);
        }

        Assert.Equal((sent.UserId, sent.AnonymousId, sent.Event), (e.UserId, e.AnonymousId, e.Event));
        Assert.Equal((sent.Name, sent.Category, sent.GroupId, sent.PreviousId), (e.Name, e.Category, e.GroupId, e.PreviousId));
        Assert.Equal(sent.Properties?.Json, e.Properties?.ToString());
        Assert.Equal(sent.Traits?.Json, e.Traits?.ToString());

        // The envelope's members under the event's own; the connection's address only where no one gave one.
        var context = Merged(sent.Context, batch.Context, ip is null ? null : ("ip", $"\"{ip}\""), dropIp: ip is null);
        Assert.Equal(context, Members(e.Context));
        Assert.Equal(batch.Integrations is null ? Members(sent.Integrations?.Json) : Merged(sent.Integrations, batch.Integrations, null, dropIp: false), Members(e.Integrations));

        // timestamp = receivedAt − (sentAt − originalTimestamp), the event's own sentAt over the envelope's.
        var original = sent.OriginalTimestamp ?? sent.Timestamp;
        var sentAt = sent.SentAt ?? batch.SentAt;
        var corrected = original is null ? Now : sentAt is null ? original.Value : Now - (sentAt.Value - original.Value);

        // A correction out of the range a time may have keeps the client's time: a clock that far off says nothing.
        var expected = corrected >= DateTimeOffset.UnixEpoch && corrected.Year < 3000 ? corrected : original!.Value;
        Assert.Equal(expected, e.Timestamp);
        Assert.Equal(original, e.OriginalTimestamp);
        Assert.Equal(sentAt, e.SentAt);
        Assert.Equal(Now, e.ReceivedAt);
    }

    private static List<(string, string)>? Merged(GenObject? own, GenObject? under, (string Name, string Value)? fill, bool dropIp)
    {
        if (own is null && under is null && fill is null)
        {
            return null;
        }

        var members = (own?.Members ?? []).Select(m => (m.Name, m.Value)).ToList();
        members.AddRange((under?.Members ?? []).Where(m => members.All(o => o.Name != m.Name)).Select(m => (m.Name, m.Value)));
        members.RemoveAll(m => dropIp && m.Name == "ip");
        if (fill is { } f && members.All(m => m.Name != f.Name))
        {
            members.Add(f);
        }

        return members;
    }

    private static List<(string, string)>? Members(JsonText? json) => Members(json?.ToString());

    private static List<(string, string)>? Members(string? json)
    {
        if (json is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateObject().Select(p => (p.Name, p.Value.GetRawText()))];
    }
}
