using System.Text;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Api;
using TrackerService.Events;

namespace TrackerService.Tests.Api;

public sealed class EventBatchParserTests
{
    private const string ValidEvent = """{"userId":"u1","event":"Signed Up"}""";

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
    public void TypeDefaultsToTrackWhenOmitted()
    {
        var result = Parse(ValidEvent);

        Assert.Equal(EventType.Track, Assert.Single(result.Events).Type);
    }

    [Theory]
    [InlineData("track", nameof(EventType.Track))]
    [InlineData("identify", nameof(EventType.Identify))]
    [InlineData("page", nameof(EventType.Page))]
    [InlineData("screen", nameof(EventType.Screen))]
    [InlineData("group", nameof(EventType.Group))]
    [InlineData("alias", nameof(EventType.Alias))]
    public void AcceptsEachSpecType(string wireName, string expected)
    {
        // Given an event of each type, all with a name so that track is valid too
        var body = $$"""{"type":"{{wireName}}","userId":"u1","event":"e"}""";

        // When
        var result = Parse(body);

        // Then
        Assert.Equal(EventParseOutcome.Valid, result.Outcome);
        Assert.Equal(expected, Assert.Single(result.Events).Type.ToString());
    }

    [Theory]
    [InlineData("\"Track\"")]
    [InlineData("\"IDENTIFY\"")]
    [InlineData("\"unknown\"")]
    [InlineData("\"\"")]
    [InlineData("1")]
    [InlineData("{}")]
    public void RejectsTypeOutsideTheSpec(string typeJson)
    {
        // Given a type that is not one of the six lower-case spec names
        var body = $$"""{"type":{{typeJson}},"userId":"u1","event":"e"}""";

        // When
        var result = Parse(body);

        // Then
        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Empty(result.Events);
        Assert.Equal(["[0].type"], Keys(result));
    }

    [Fact]
    public void RejectsTrackEventWithoutEventName()
    {
        var result = Parse("""{"type":"track","userId":"u1"}""");

        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Equal(["[0].event"], Keys(result));
    }

    [Fact]
    public void RejectsEventWithoutTypeOrEventNameAsTrack()
    {
        // Given no type (so track) and no event name
        var result = Parse("""{"userId":"u1"}""");

        Assert.Equal(["[0].event"], Keys(result));
    }

    [Theory]
    [InlineData("identify")]
    [InlineData("page")]
    [InlineData("screen")]
    [InlineData("group")]
    [InlineData("alias")]
    public void AcceptsNonTrackEventWithoutEventName(string type)
    {
        var result = Parse($$"""{"type":"{{type}}","userId":"u1"}""");

        Assert.Equal(EventParseOutcome.Valid, result.Outcome);
        Assert.Null(Assert.Single(result.Events).Event);
    }

    [Fact]
    public void RejectsEventWithNeitherUserIdNorAnonymousId()
    {
        var result = Parse("""{"event":"e","userId":null}""");

        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Equal(["[0].userId"], Keys(result));
    }

    [Fact]
    public void AcceptsEventWithOnlyAnonymousId()
    {
        var result = Parse("""{"event":"e","anonymousId":"a1"}""");

        var parsed = Assert.Single(result.Events);
        Assert.Null(parsed.UserId);
        Assert.Equal("a1", parsed.AnonymousId);
    }

    [Theory]
    [InlineData("userId", "")]
    [InlineData("userId", "   ")]
    [InlineData("anonymousId", "")]
    [InlineData("anonymousId", "\\t\\n")]
    [InlineData("messageId", "")]
    [InlineData("event", " ")]
    public void RejectsBlankIdsAndEventNames(string field, string value)
    {
        // Given a valid event whose one field is blank
        var body = WithField(field, $"\"{value}\"");

        // When
        var result = Parse(body);

        // Then
        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Equal([$"[0].{field}"], Keys(result));
    }

    [Theory]
    [InlineData("userId")]
    [InlineData("anonymousId")]
    [InlineData("messageId")]
    [InlineData("event")]
    public void AcceptsIdsAndEventNamesOfMaxLength(string field)
    {
        // Given a value of exactly 200 characters
        var value = new string('x', EventReader.MaxIdLength);

        // When
        var result = Parse(WithField(field, $"\"{value}\""));

        // Then
        var parsed = Assert.Single(result.Events);
        var read = field switch
        {
            "userId" => parsed.UserId,
            "anonymousId" => parsed.AnonymousId,
            "messageId" => parsed.MessageId,
            _ => parsed.Event,
        };
        Assert.Equal(value, read);
    }

    [Theory]
    [InlineData("userId")]
    [InlineData("anonymousId")]
    [InlineData("messageId")]
    [InlineData("event")]
    public void RejectsIdsAndEventNamesOverMaxLength(string field)
    {
        var value = new string('x', EventReader.MaxIdLength + 1);

        var result = Parse(WithField(field, $"\"{value}\""));

        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Equal([$"[0].{field}"], Keys(result));
    }

    [Theory]
    [InlineData("42")]
    [InlineData("true")]
    [InlineData("{\"id\":\"u1\"}")]
    [InlineData("[\"u1\"]")]
    public void RejectsNonStringUserId(string userIdJson)
    {
        var result = Parse($$"""{"userId":{{userIdJson}},"event":"e"}""");

        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        var error = Assert.Single(result.Errors);
        Assert.Equal("[0].userId", error.Key);
        Assert.Equal("Must be a string.", error.Message);
    }

    [Theory]
    [InlineData("properties", "[1,2]")]
    [InlineData("properties", "\"text\"")]
    [InlineData("traits", "[]")]
    [InlineData("traits", "\"text\"")]
    [InlineData("context", "[{}]")]
    [InlineData("context", "3")]
    public void RejectsObjectFieldsThatAreNotObjects(string field, string valueJson)
    {
        var result = Parse(WithField(field, valueJson));

        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Equal([$"[0].{field}"], Keys(result));
    }

    [Fact]
    public void AcceptsNullObjectFields()
    {
        var result = Parse("""{"userId":"u1","event":"e","properties":null,"traits":null,"context":null}""");

        var parsed = Assert.Single(result.Events);
        Assert.Null(parsed.Properties);
        Assert.Null(parsed.Traits);
        Assert.Null(parsed.Context);
    }

    [Fact]
    public void PreservesObjectFieldsAsTheClientsRawJsonText()
    {
        // Given object fields with whitespace, escapes, number spellings and key order a re-serializer would change
        const string properties = """{ "b" : 1.50e3,"a":[ 1, {"x" : null} ], "s":"caf\u00e9 \"q\"" }""";
        const string traits = "{\n  \"name\": \"Ada\",\n  \"age\": 36\n}";
        const string context = """{"ip":"203.0.113.7","nested":{"deep":{"v":-0.0}}}""";
        var body = $$"""{"userId":"u1","event":"e","properties":{{properties}},"traits":{{traits}},"context":{{context}}}""";

        // When
        var result = Parse(body);

        // Then
        var parsed = Assert.Single(result.Events);
        Assert.Equal(properties, parsed.Properties);
        Assert.Equal(traits, parsed.Traits);
        Assert.Equal(context, parsed.Context);
    }

    [Fact]
    public void ParsesTimestampAndSentAtWithTheirOffsets()
    {
        var body = """{"userId":"u1","event":"e","timestamp":"2026-01-31T13:00:00.123+01:00","sentAt":"2026-01-31T12:00:05Z"}""";

        var result = Parse(body);

        var parsed = Assert.Single(result.Events);
        Assert.Equal(new DateTimeOffset(2026, 1, 31, 13, 0, 0, 123, TimeSpan.FromHours(1)), parsed.Timestamp);
        Assert.Equal(TimeSpan.FromHours(1), parsed.Timestamp!.Value.Offset);
        Assert.Equal(new DateTimeOffset(2026, 1, 31, 12, 0, 5, TimeSpan.Zero), parsed.SentAt);
    }

    [Fact]
    public void LeavesTimestampAndSentAtNullWhenNotSent()
    {
        var parsed = Assert.Single(Parse(ValidEvent).Events);

        Assert.Null(parsed.Timestamp);
        Assert.Null(parsed.SentAt);
    }

    [Theory]
    [InlineData("timestamp", "\"yesterday\"")]
    [InlineData("timestamp", "\"2026-13-01T00:00:00Z\"")]
    [InlineData("timestamp", "\"31/01/2026 12:00\"")]
    [InlineData("timestamp", "1769860800")]
    [InlineData("sentAt", "\"2026-02-30T00:00:00Z\"")]
    [InlineData("sentAt", "\"\"")]
    [InlineData("sentAt", "{}")]
    public void RejectsInvalidDates(string field, string valueJson)
    {
        var result = Parse(WithField(field, valueJson));

        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Equal([$"[0].{field}"], Keys(result));
    }

    [Fact]
    public void KeepsClientMessageId()
    {
        var result = Parse("""{"userId":"u1","event":"e","messageId":"client-42"}""");

        Assert.Equal("client-42", Assert.Single(result.Events).MessageId);
    }

    [Fact]
    public void AssignsDistinctVersion7MessageIdsWhenNoneIsSent()
    {
        // Given two events without messageId, parsed at the same instant
        var body = $"[{ValidEvent},{ValidEvent}]";

        // When
        var result = Parse(body);

        // Then
        Assert.Equal(2, result.Events.Length);
        var ids = result.Events.Select(e => Guid.Parse(e.MessageId)).ToArray();
        Assert.All(ids, id => Assert.Equal(7, id.Version));
        Assert.NotEqual(ids[0], ids[1]);
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
    public void IgnoresReceivedAtSentByTheClient()
    {
        var result = Parse("""{"userId":"u1","event":"e","receivedAt":"2020-01-01T00:00:00Z"}""");

        Assert.Equal(Now, Assert.Single(result.Events).ReceivedAt);
    }

    [Fact]
    public void IgnoresFieldsOutsideTheContract()
    {
        var result = Parse("""{"userId":"u1","extra":{"a":[1,2,{"b":null}]},"event":"e","version":2}""");

        var parsed = Assert.Single(result.Events);
        Assert.Equal("e", parsed.Event);
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
    public void AcceptsEventNestedToTheMaximumDepth()
    {
        // Given an event whose JSON is exactly 32 levels deep, the event object being level 1
        var body = NestedEvent(EventBatchParser.MaxEventDepth);

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
        var deep = NestedEvent(EventBatchParser.MaxEventDepth + 1);
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
        var body = $$"""[{"event":"e"},{{NestedEvent(EventBatchParser.MaxEventDepth + 1)}},{"userId":"u1"}]""";

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

    [Theory]
    [InlineData("userId", "\"a\xff\xfe\"")]
    [InlineData("userId", "\"\\ud800\"")]
    [InlineData("type", "\"\\udc00\"")]
    [InlineData("event", "\"\xc3\"")]
    public void ReportsUndecodableStringAsEventError(string field, string valueJson)
    {
        // Given a string field that is not valid UTF-8 (\xNN are raw bytes) or escapes half a surrogate pair
        var body = Latin1Bytes(WithField(field, valueJson));

        // When
        var result = new EventBatchParser(new ApiOptions(), _time).Parse(body);

        // Then the event is refused, naming the field, rather than the parser throwing
        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Equal([$"[0].{field}"], Keys(result));
    }

    [Theory]
    [InlineData("userId", "\"a\\u0000b\"")]
    [InlineData("properties", "{\"k\":\"a\\u0000\"}")]
    [InlineData("traits", "{\"\\u0000\":1}")]
    [InlineData("context", "{\"k\":[\"\\ud800\"]}")]
    public void RefusesTextThatNoStoreCanHold(string field, string valueJson)
    {
        // Given a field whose text holds U+0000 or an unpaired surrogate (PostgreSQL's text and jsonb refuse both)
        var body = Encoding.UTF8.GetBytes(WithField(field, valueJson));

        // When
        var result = new EventBatchParser(new ApiOptions(), _time).Parse(body);

        // Then the event is refused, naming the field
        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Equal([$"[0].{field}"], Keys(result));
    }

    [Fact]
    public void RefusesObjectFieldThatIsNotValidUtf8()
    {
        // Given properties holding a raw 0xFF byte
        var body = Latin1Bytes("{\"userId\":\"u1\",\"event\":\"e\",\"properties\":{\"k\":\"a\xff\"}}");

        // When
        var result = new EventBatchParser(new ApiOptions(), _time).Parse(body);

        // Then
        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Equal(["[0].properties"], Keys(result));
    }

    private EventParseResult Parse(string body, ApiOptions? options = null) =>
        new EventBatchParser(options ?? new ApiOptions(), _time).Parse(Encoding.UTF8.GetBytes(body));

    /// <summary>Each char of <paramref name="text"/> as one byte, so a test can put raw invalid UTF-8 in a body.</summary>
    private static byte[] Latin1Bytes(string text) => Encoding.Latin1.GetBytes(text);

    private static IEnumerable<string> Keys(EventParseResult result) => result.Errors.Select(e => e.Key);

    /// <summary>A valid track event with <paramref name="field"/> set (or replaced) to <paramref name="valueJson"/>.</summary>
    private static string WithField(string field, string valueJson) => field switch
    {
        "userId" => $$"""{"userId":{{valueJson}},"event":"e"}""",
        "event" => $$"""{"userId":"u1","event":{{valueJson}}}""",
        _ => $$"""{"userId":"u1","event":"e","{{field}}":{{valueJson}}}""",
    };

    /// <summary>A valid event whose JSON is <paramref name="depth"/> levels deep (the event object is level 1).</summary>
    private static string NestedEvent(int depth)
    {
        // properties is level 2; each further {"a": ...} adds one.
        var inner = depth - 1;
        var properties = string.Concat(Enumerable.Repeat("{\"a\":", inner - 1)) + "{}" + new string('}', inner - 1);
        return $$"""{"userId":"u1","event":"e","properties":{{properties}}}""";
    }

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
