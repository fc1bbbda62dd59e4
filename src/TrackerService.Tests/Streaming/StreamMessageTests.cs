using System.Diagnostics;
using System.Text;
using CsCheck;
using NATS.Client.Core;
using TrackerService.Events;
using TrackerService.Streaming;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Streaming;

public sealed class StreamMessageTests
{
    private static readonly JetStreamOptions Options = new() { SubjectPrefix = "acme.tracker" };

    private static readonly ActivityContext Request = new(
        ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, "vendor=abc,other=1");

    public static TheoryData<string, string> Subjects => new()
    {
        { "Track", "acme.tracker.track" }, { "Identify", "acme.tracker.identify" }, { "Page", "acme.tracker.page" },
        { "Screen", "acme.tracker.screen" }, { "Group", "acme.tracker.group" }, { "Alias", "acme.tracker.alias" },
    };

    [Theory]
    [MemberData(nameof(Subjects))]
    public void AnEventGoesToTheSubjectOfItsType(string type, string subject)
    {
        var e = TrackedEvents.One("m-1") with { Type = Enum.Parse<EventType>(type) };

        Assert.Equal(subject, StreamMessage.Subject(e, Options));
        Assert.Equal("m-1", StreamMessage.Headers(e)[StreamMessage.MessageIdHeader]);
    }

    [Fact]
    public void ARejectedStandInGoesToTheRejectedSubjectUnderAnIdOfItsOwn()
    {
        var valid = TrackedEvents.One("m-1");
        var rejected = valid with { Rejection = new EventRejection("{\"type\":\"group\"}", "groupId: Required for a group call.", "groupId") };

        Assert.Equal("acme.tracker.rejected", StreamMessage.Subject(rejected, Options));
        Assert.Equal("rejected:m-1", StreamMessage.Headers(rejected)[StreamMessage.MessageIdHeader]);
        Assert.NotEqual(StreamMessage.MessageId(valid), StreamMessage.MessageId(rejected));
    }

    [Fact]
    public void ThePayloadIsTheEventsSpillLineAndReadsBackAsTheEvent()
    {
        var e = TrackedEvents.WithSpecFields("m-spec") with { Origin = Request };

        var payload = StreamMessage.Payload(e);

        Assert.Equal(TrackedEvents.Lines(e), payload);
        Assert.Equal(e with { Origin = default }, StreamMessage.Decode(payload));
        Assert.Equal(e with { Origin = default }, StreamMessage.Decode(payload.AsSpan(0, payload.Length - 1))); // without its line break too
    }

    [Fact]
    public void ARejectedStandInReadsBackWithWhatTheClientSent()
    {
        var e = TrackedEvents.One("m-refused") with
        {
            Source = "web",
            Rejection = new EventRejection("{\"type\":\"group\",\n \"userId\":\"\u0000\"}", "groupId: Required for a group call.", "groupId"),
        };

        Assert.Equal(e, StreamMessage.Decode(StreamMessage.Payload(e)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json\n")]
    [InlineData("{\"messageId\":\"m\",\"type\":\"track\"}\n")] // no receivedAt
    [InlineData("{\"messageId\":\"m\",\"type\":\"Track\",\"receivedAt\":\"2026-03-01T12:00:00Z\"}")]
    public void APayloadThatIsNoEventReadsAsNone(string payload) =>
        Assert.Null(StreamMessage.Decode(Encoding.UTF8.GetBytes(payload)));

    [Fact]
    public void TheIntakeRequestsSpanTravelsInW3CHeaders()
    {
        var headers = StreamMessage.Headers(TrackedEvents.One("m-1") with { Origin = Request });

        Assert.Equal($"00-{Request.TraceId}-{Request.SpanId}-01", headers[StreamMessage.TraceParentHeader]);
        Assert.Equal("vendor=abc,other=1", headers[StreamMessage.TraceStateHeader]);
        var origin = StreamMessage.Origin(headers);
        Assert.Equal((Request.TraceId, Request.SpanId, Request.TraceFlags, Request.TraceState), (origin.TraceId, origin.SpanId, origin.TraceFlags, origin.TraceState));
        Assert.True(origin.IsRemote);
    }

    [Fact]
    public void AnEventOfNoKnownRequestHasNoTraceHeaders()
    {
        var headers = StreamMessage.Headers(TrackedEvents.One("m-1"));

        Assert.False(headers.ContainsKey(StreamMessage.TraceParentHeader));
        Assert.False(headers.ContainsKey(StreamMessage.TraceStateHeader));
        Assert.Equal(default, StreamMessage.Origin(headers));
        Assert.Equal(default, StreamMessage.Origin(null));
        Assert.Equal(default, StreamMessage.Origin(new NatsHeaders { [StreamMessage.TraceParentHeader] = "00-garbage-01" }));
    }

    [Fact]
    public void EveryEventRoundTripsThroughPayloadAndHeaders()
    {
        Gen.Select(StreamMessageGen.Event, StreamMessageGen.Origin).Sample((e, origin) =>
        {
            var sent = e with { Origin = origin };

            var read = StreamMessage.Decode(StreamMessage.Payload(sent));
            var back = StreamMessage.Origin(StreamMessage.Headers(sent));

            Assert.Equal(e with { Origin = default }, read);
            Assert.Equal((origin.TraceId, origin.SpanId, origin.TraceFlags), (back.TraceId, back.SpanId, back.TraceFlags));
            Assert.Equal(string.IsNullOrEmpty(origin.TraceState) ? null : origin.TraceState, back.TraceState);
            Assert.EndsWith(sent.Rejection is null ? "." + sent.Type.ToWireName() : ".rejected", StreamMessage.Subject(sent, Options), StringComparison.Ordinal);
        }, iter: 500);
    }
}
