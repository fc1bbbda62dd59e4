using System.Text;
using TrackerService.Api;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary>
/// The rules of one field of an event, each refusing the event with the field named: ids and names (non-blank
/// strings of bounded length), times (ISO-8601), objects (JSON objects, kept as the client's text), and text no
/// store can hold.
/// </summary>
public sealed class EventFieldsTests
{
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
        var body = EventJson.WithField(field, $"\"{value}\"");

        // When
        var result = Read(body);

        // Then
        Assert.Equal([$"[0].{field}"], result.InvalidKeys());
    }

    [Theory]
    [InlineData("userId")]
    [InlineData("anonymousId")]
    [InlineData("messageId")]
    [InlineData("event")]
    public void AcceptsIdsAndEventNamesOfMaxLength(string field)
    {
        // Given a value of exactly 200 characters
        var value = new string('x', EventFields.MaxIdLength);

        // When
        var result = Read(EventJson.WithField(field, $"\"{value}\""));

        // Then
        var parsed = result.Valid();
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
        var value = new string('x', EventFields.MaxIdLength + 1);

        var result = Read(EventJson.WithField(field, $"\"{value}\""));

        Assert.Equal([$"[0].{field}"], result.InvalidKeys());
    }

    [Theory]
    [InlineData("42")]
    [InlineData("true")]
    [InlineData("{\"id\":\"u1\"}")]
    [InlineData("[\"u1\"]")]
    public void RejectsNonStringUserId(string userIdJson)
    {
        var result = Read($$"""{"userId":{{userIdJson}},"event":"e"}""");

        Assert.Null(result.Event);
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
        var result = Read(EventJson.WithField(field, valueJson));

        Assert.Equal([$"[0].{field}"], result.InvalidKeys());
    }

    [Fact]
    public void AcceptsNullObjectFields()
    {
        var result = Read("""{"userId":"u1","event":"e","properties":null,"traits":null,"context":null}""");

        var parsed = result.Valid();
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
        var result = Read(body);

        // Then
        var parsed = result.Valid();
        Assert.Equal(properties, parsed.Properties);
        Assert.Equal(traits, parsed.Traits);
        Assert.Equal(context, parsed.Context);
    }

    [Fact]
    public void ParsesTimestampAndSentAtWithTheirOffsets()
    {
        var body = """{"userId":"u1","event":"e","timestamp":"2026-01-31T13:00:00.123+01:00","sentAt":"2026-01-31T12:00:05Z"}""";

        var result = Read(body);

        var parsed = result.Valid();
        Assert.Equal(new DateTimeOffset(2026, 1, 31, 13, 0, 0, 123, TimeSpan.FromHours(1)), parsed.Timestamp);
        Assert.Equal(TimeSpan.FromHours(1), parsed.Timestamp!.Value.Offset);
        Assert.Equal(new DateTimeOffset(2026, 1, 31, 12, 0, 5, TimeSpan.Zero), parsed.SentAt);
    }

    [Theory]
    [InlineData("2026-01-31T12:00:00")]
    [InlineData("2026-01-31T12:00")]
    [InlineData("2026-01-31T12:00:00.000")]
    public void ReadsATimeWithoutAnOffsetAsUtc(string time)
    {
        var parsed = Read(EventJson.WithField("timestamp", $"\"{time}\"")).Valid();

        Assert.Equal(new DateTimeOffset(2026, 1, 31, 12, 0, 0, TimeSpan.Zero), parsed.Timestamp);
        Assert.Equal(TimeSpan.Zero, parsed.Timestamp!.Value.Offset);
    }

    [Theory]
    [InlineData("1970-01-01T00:00:00Z")]
    [InlineData("1970-01-01T09:00:00+09:00")]
    [InlineData("2999-12-31T23:59:59.9999999Z")]
    [InlineData("2026-01-31T12:00:00\\u002B01:00")]
    public void TakesTimesAtTheEdgesOfTheRange(string time)
    {
        var parsed = Read(EventJson.WithField("sentAt", $"\"{time}\"")).Valid();

        Assert.NotNull(parsed.SentAt);
    }

    [Theory]
    [InlineData("2026-01-31", "a date alone")]
    [InlineData("\\u0032026-01-31", "a date alone")]
    [InlineData("0001-01-01T00:00:00Z", "from 1970-01-01")]
    [InlineData("9999-12-31T23:59:59Z", "from 1970-01-01")]
    [InlineData("1969-12-31T23:59:59.999Z", "from 1970-01-01")]
    [InlineData("1970-01-01T08:59:59+09:00", "from 1970-01-01")]
    [InlineData("3000-01-01T00:00:00Z", "before 3000-01-01")]
    [InlineData("3000-01-01T00:00:00", "before 3000-01-01")]
    public void RefusesADateAloneAndTimesOutsideTheRange(string time, string why)
    {
        var result = Read(EventJson.WithField("timestamp", $"\"{time}\""));

        Assert.Equal(["[0].timestamp"], result.InvalidKeys());
        Assert.Contains(why, Assert.Single(result.Errors).Message, StringComparison.Ordinal);
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
        var result = Read(EventJson.WithField(field, valueJson));

        Assert.Equal([$"[0].{field}"], result.InvalidKeys());
    }

    [Theory]
    [InlineData("userId", "\"a\xff\xfe\"")]
    [InlineData("userId", "\"\\ud800\"")]
    [InlineData("type", "\"\\udc00\"")]
    [InlineData("event", "\"\xc3\"")]
    public void ReportsUndecodableStringAsEventError(string field, string valueJson)
    {
        // Given a string field that is not valid UTF-8 (\xNN are raw bytes) or escapes half a surrogate pair
        var body = EventJson.Latin1Bytes(EventJson.WithField(field, valueJson));

        // When
        var result = Read(body);

        // Then the event is refused, naming the field, rather than the reader throwing
        Assert.Equal([$"[0].{field}"], result.InvalidKeys());
    }

    [Theory]
    [InlineData("userId", "\"a\\u0000b\"")]
    [InlineData("properties", "{\"k\":\"a\\u0000\"}")]
    [InlineData("traits", "{\"\\u0000\":1}")]
    [InlineData("context", "{\"k\":[\"\\ud800\"]}")]
    public void RefusesTextThatNoStoreCanHold(string field, string valueJson)
    {
        // Given a field whose text holds U+0000 or an unpaired surrogate (PostgreSQL's text and jsonb refuse both)
        var body = Encoding.UTF8.GetBytes(EventJson.WithField(field, valueJson));

        // When
        var result = Read(body);

        // Then the event is refused, naming the field
        Assert.Equal([$"[0].{field}"], result.InvalidKeys());
    }

    [Fact]
    public void RefusesObjectFieldThatIsNotValidUtf8()
    {
        // Given properties holding a raw 0xFF byte
        var body = EventJson.Latin1Bytes("{\"userId\":\"u1\",\"event\":\"e\",\"properties\":{\"k\":\"a\xff\"}}");

        // When
        var result = Read(body);

        // Then
        Assert.Equal(["[0].properties"], result.InvalidKeys());
    }

    [Theory]
    [InlineData("properties", "{\"n\":1e999999}")]
    [InlineData("traits", "{\"a\":[1,{\"b\":[-1E131072]}]}")]
    [InlineData("context", "{\"n\":1e-16384}")]
    [InlineData("properties", "{\"n\":0e-16384}")]
    [InlineData("properties", "{\"n\":0e1073741823}")]
    [InlineData("properties", "{\"n\":1.5e-16383}")]
    public void RefusesANumberPostgresCannotStoreAtAnyDepth(string field, string objectJson)
    {
        var result = Read(EventJson.WithField(field, objectJson));

        Assert.Equal([$"[0].{field}"], result.InvalidKeys());
        Assert.Contains("numeric", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"n\":1e131071,\"m\":-9.99e131071}")]
    [InlineData("{\"n\":1e-16383,\"m\":0e999999}")]
    [InlineData("{\"n\":123456.7e131066,\"m\":0.00001e-16378}")]
    [InlineData("{\"n\":-0,\"m\":1.5,\"o\":12345678901234567890123456789}")]
    public void TakesNumbersAtTheEdgesOfPostgresRange(string objectJson)
    {
        var parsed = Read(EventJson.WithField("properties", objectJson)).Valid();

        Assert.NotNull(parsed.Properties);
    }

    private static EventRead Read(string json) => EventRead.Of(json);

    private static EventRead Read(byte[] json) => EventRead.Of(json);
}
