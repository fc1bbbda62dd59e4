using System.Text;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Api;
using TrackerService.Events;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary>
/// A request body as a batch: one object or an array, its limits, each event named by its index, all or none.
/// How one event is read and checked is <see cref="EventReaderTests"/>.
/// </summary>
public sealed class EventBatchParserTests
{
    private const string ValidEvent = EventJson.Valid;

    private static readonly DateTimeOffset Now = new(2026, 1, 31, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);

    [Fact]
    public void AcceptsSingleEventObject()
    {
        // Given one event object as the whole body
        var body = """{"userId":"u1","anonymousId":"a1","event":"Signed Up"}""";

        // When
        var result = Parse(body);

        // Then
        Assert.Equal(EventParseOutcome.Valid, result.Outcome);
        var parsed = Assert.Single(result.Events);
        Assert.Equal("u1", parsed.UserId);
        Assert.Equal("a1", parsed.AnonymousId);
        Assert.Equal("Signed Up", parsed.Event);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void AcceptsArrayOfEventsInOrder()
    {
        // Given
        var body = """[{"userId":"u1","event":"first"},{"anonymousId":"a2","event":"second"},{"userId":"u3","type":"identify"}]""";

        // When
        var result = Parse(body);

        // Then
        Assert.Equal(EventParseOutcome.Valid, result.Outcome);
        Assert.Equal(["first", "second", null], result.Events.Select(e => e.Event));
        Assert.Equal([EventType.Track, EventType.Track, EventType.Identify], result.Events.Select(e => e.Type));
    }

    [Fact]
    public void SetsReceivedAtFromTheTimeProvider()
    {
        // Given the clock has moved on since the parser was made
        _time.Advance(TimeSpan.FromMinutes(5));

        // When
        var result = Parse($"[{ValidEvent},{ValidEvent}]");

        // Then
        Assert.All(result.Events, e => Assert.Equal(Now.AddMinutes(5), e.ReceivedAt));
    }

    [Fact]
    public void RejectsBatchWhenAnyEventIsInvalid()
    {
        // Given two valid events and one without any id
        var body = $$"""[{{ValidEvent}},{{ValidEvent}},{"event":"e"}]""";

        // When
        var result = Parse(body);

        // Then
        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Empty(result.Events);
        Assert.Equal(["[2].userId"], Keys(result));
    }

    [Fact]
    public void NamesEachInvalidEventByIndex()
    {
        // Given a batch in which events 1, 2 and 3 are each wrong in their own way
        var body = $$"""
            [
              {{ValidEvent}},
              {"userId":"u1"},
              {"userId":42,"event":"e"},
              {"anonymousId":"","event":"e","timestamp":"soon"},
              {{ValidEvent}}
            ]
            """;

        // When
        var result = Parse(body);

        // Then
        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Empty(result.Events);
        Assert.Equal(["[1].event", "[2].userId", "[3].anonymousId", "[3].timestamp"], Keys(result).Order());
        Assert.Equal("3 event(s) are invalid; none were accepted.", result.Detail);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("\"event\"")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("[{\"userId\":\"u1\",\"event\":\"e\"}]")]
    public void ReportsArrayElementThatIsNotAnObjectAsEventError(string elementJson)
    {
        var result = Parse($"[{ValidEvent},{elementJson},{ValidEvent}]");

        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Empty(result.Events);
        var error = Assert.Single(result.Errors);
        Assert.Equal("[1].$", error.Key);
    }

    [Fact]
    public void ReportsAnUndecodableStringAsAnErrorOfItsEventRatherThanRefusingTheBody()
    {
        // Given a batch whose second event's userId is not valid UTF-8 (\xNN are raw bytes)
        var body = EventJson.Latin1Bytes($"[{ValidEvent},{EventJson.WithField("userId", "\"a\xff\xfe\"")}]");

        // When
        var result = new EventBatchParser(new ApiOptions(), _time).Parse(body);

        // Then the walk over the batch gets past it, and that event's field is named
        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Empty(result.Events);
        Assert.Equal(["[1].userId"], Keys(result));
    }

    [Fact]
    public void AcceptsEventNestedToTheMaximumDepth()
    {
        // Given an event whose JSON is exactly 32 levels deep, the event object being level 1
        var body = EventJson.Nested(EventBatchParser.MaxEventDepth);

        // When
        var result = Parse(body);

        // Then
        Assert.Equal(EventParseOutcome.Valid, result.Outcome);
        Assert.Single(result.Events);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RejectsEventNestedBeyondTheMaximumDepthByIndex(bool inArray)
    {
        // Given an event 33 levels deep
        var deep = EventJson.Nested(EventBatchParser.MaxEventDepth + 1);
        var body = inArray ? $"[{ValidEvent},{deep}]" : deep;

        // When
        var result = Parse(body);

        // Then
        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Equal([inArray ? "[1].$" : "[0].$"], Keys(result));
    }

    [Fact]
    public void ReportsOtherEventsErrorsAlongsideAnOverDeepEvent()
    {
        // Given an over-deep event between two events that are invalid for other reasons
        var body = $$"""[{"event":"e"},{{EventJson.Nested(EventBatchParser.MaxEventDepth + 1)}},{"userId":"u1"}]""";

        // When
        var result = Parse(body);

        // Then
        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Equal(["[0].userId", "[1].$", "[2].event"], Keys(result).Order());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n")]
    [InlineData("{")]
    [InlineData("[{\"userId\":\"u1\",\"event\":\"e\"}")]
    [InlineData("{\"userId\":\"u1\",\"event\":\"e\",}")]
    [InlineData("{'userId':'u1'}")]
    [InlineData("\"an event\"")]
    [InlineData("42")]
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("{\"userId\":\"u1\",\"event\":\"e\"} x")]
    [InlineData("{\"userId\":\"u1\",\"event\":\"e\"}{\"userId\":\"u2\",\"event\":\"e\"}")]
    [InlineData("[{\"userId\":\"u1\",\"event\":\"e\"}] []")]
    [InlineData("[]")]
    [InlineData(" [ ] ")]
    public void RefusesMalformedBodies(string body)
    {
        var result = Parse(body);

        Assert.Equal(EventParseOutcome.Malformed, result.Outcome);
        Assert.Empty(result.Events);
        Assert.Empty(result.Errors);
        Assert.False(string.IsNullOrEmpty(result.Detail));
    }

    [Fact]
    public void AcceptsBatchOfExactlyMaxBatchEvents()
    {
        var body = Batch(new ApiOptions().MaxBatchEvents);

        var result = Parse(body);

        Assert.Equal(EventParseOutcome.Valid, result.Outcome);
        Assert.Equal(500, result.Events.Length);
    }

    [Fact]
    public void RefusesBatchOfMoreThanMaxBatchEvents()
    {
        var body = Batch(new ApiOptions().MaxBatchEvents + 1);

        var result = Parse(body);

        Assert.Equal(EventParseOutcome.TooLarge, result.Outcome);
        Assert.Empty(result.Events);
    }

    [Fact]
    public void HonoursConfiguredMaxBatchEvents()
    {
        var options = new ApiOptions { MaxBatchEvents = 2 };

        Assert.Equal(EventParseOutcome.Valid, Parse(Batch(2), options).Outcome);
        Assert.Equal(EventParseOutcome.TooLarge, Parse(Batch(3), options).Outcome);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AcceptsEventOfExactlyMaxEventBytes(bool inArray)
    {
        // Given an event of exactly 32768 bytes
        var maxEventBytes = new ApiOptions().MaxEventBytes;
        var big = EventOfBytes(maxEventBytes);
        var body = inArray ? $"[{ValidEvent},{big}]" : big;

        // When
        var result = Parse(body);

        // Then
        Assert.Equal(EventParseOutcome.Valid, result.Outcome);
        Assert.Equal(inArray ? 2 : 1, result.Events.Length);
    }

    [Fact]
    public void RefusesBatchWithOneEventOverMaxEventBytes()
    {
        // Given a batch whose second event is one byte over the limit
        var big = EventOfBytes(new ApiOptions().MaxEventBytes + 1);

        // When
        var result = Parse($"[{ValidEvent},{big},{ValidEvent}]");

        // Then
        Assert.Equal(EventParseOutcome.TooLarge, result.Outcome);
        Assert.Empty(result.Events);
        Assert.Contains("[1]", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesSingleEventObjectOverMaxEventBytes()
    {
        // Given a body that is one event object, one byte over the limit
        var big = EventOfBytes(new ApiOptions().MaxEventBytes + 1);

        // When
        var result = Parse(big);

        // Then
        Assert.Equal(EventParseOutcome.TooLarge, result.Outcome);
        Assert.Empty(result.Events);
    }

    private EventParseResult Parse(string body, ApiOptions? options = null) =>
        new EventBatchParser(options ?? new ApiOptions(), _time).Parse(Encoding.UTF8.GetBytes(body));

    private static IEnumerable<string> Keys(EventParseResult result) => result.Errors.Select(e => e.Key);

    /// <summary>A valid event of exactly <paramref name="bytes"/> bytes of UTF-8 JSON.</summary>
    private static string EventOfBytes(int bytes)
    {
        const string prefix = "{\"userId\":\"u1\",\"event\":\"e\",\"properties\":{\"pad\":\"";
        const string suffix = "\"}}";
        var json = prefix + new string('p', bytes - prefix.Length - suffix.Length) + suffix;
        Assert.Equal(bytes, Encoding.UTF8.GetByteCount(json));
        return json;
    }

    private static string Batch(int count) => "[" + string.Join(",", Enumerable.Repeat(ValidEvent, count)) + "]";
}
