using System.Text;
using System.Text.Json.Nodes;
using TrackerService.Events;
using TrackerService.Spill;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Spill;

public sealed class SpillFormatTests
{
    public static TheoryData<string> Types => new(Enum.GetNames<EventType>());

    public static TheoryData<string> RequiredFields => new("messageId", "type", "receivedAt");

    [Theory]
    [MemberData(nameof(Types))]
    public void RoundTripsEveryFieldOfEachType(string type)
    {
        // Given an event of this type with every field set
        var written = new TrackedEvent(
            $"m-{type}",
            Enum.Parse<EventType>(type),
            "Order Completed",
            "user-42",
            "anon-7",
            new DateTimeOffset(2026, 1, 31, 12, 0, 0, 123, TimeSpan.FromHours(2)),
            new DateTimeOffset(2026, 1, 31, 10, 0, 1, TimeSpan.Zero),
            new DateTimeOffset(2026, 1, 31, 10, 0, 2, 456, TimeSpan.Zero),
            """{"total":19.99,"items":[{"sku":"a-1","qty":2},{"sku":"b-2","qty":1}]}""",
            """{"plan":"pro","tags":["x","y"]}""",
            """{"ip":"127.0.0.1","library":{"name":"analytics.js","version":"2.0"}}""");

        // When it is written and read back
        var read = RoundTrip(written);

        // Then every field is as written
        Assert.Equal(written, read);
    }

    [Fact]
    public void RoundTripsTheSegmentSpecFieldsAndTheSource()
    {
        var written = TrackedEvents.WithSpecFields("m-spec");

        Assert.Equal(written, RoundTrip(written));
    }

    [Fact]
    public void RoundTripsAnEventRefusedAtIntakeWithWhatTheClientSent()
    {
        // Given the stand-in of an event the intake refused, its raw JSON holding what no event may
        var written = TrackedEvents.One("m-refused") with
        {
            Source = "web",
            Rejection = new EventRejection("{\"type\":\"group\",\n \"userId\":\"\u0000\"}", "groupId: Required for a group call.", "groupId"),
        };

        // When it is spilled and read back, then it is the same, on one line
        Assert.Single(TrackedEvents.Lines(written), b => b == (byte)'\n');
        Assert.Equal(written, RoundTrip(written));
    }

    [Fact]
    public void RoundTripsAnEventWithoutItsOptionalFields()
    {
        // Given an alias event with nothing but the required fields
        var written = new TrackedEvent("m-bare", EventType.Alias, null, null, null, null, null, TrackedEvents.ReceivedAt, null, null, null);

        // When it is written and read back
        var line = Encoding.UTF8.GetString(TrackedEvents.Lines(written));
        var read = RoundTrip(written);

        // Then it is the same event, and the line carries no field for the missing values
        Assert.Equal(written, read);
        Assert.Equal(["messageId", "type", "receivedAt"], JsonNode.Parse(line)!.AsObject().Select(p => p.Key));
    }

    [Theory]
    [InlineData("2026-01-31T12:34:56.1234567+05:45")]
    [InlineData("2026-01-31T12:34:56.0000001-03:30")]
    [InlineData("2026-01-31T23:59:59.9999999+14:00")]
    [InlineData("2026-01-01T00:00:00-12:00")]
    [InlineData("2026-01-31T12:34:56Z")]
    public void KeepsTheInstantAndTheOffsetOfEveryTimestamp(string time)
    {
        // Given an event whose three timestamps carry this offset and sub-millisecond precision
        var value = DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture);
        var written = TrackedEvents.Track("m-time") with { Timestamp = value, SentAt = value.AddTicks(1), ReceivedAt = value.AddTicks(2) };

        // When it is written and read back
        var read = RoundTrip(written);

        // Then each is the same instant (record equality) and the same offset and ticks (exact equality)
        Assert.Equal(written, read);
        Assert.True(written.Timestamp!.Value.EqualsExact(read.Timestamp!.Value), $"timestamp {read.Timestamp:O}");
        Assert.True(written.SentAt!.Value.EqualsExact(read.SentAt!.Value), $"sentAt {read.SentAt:O}");
        Assert.True(written.ReceivedAt.EqualsExact(read.ReceivedAt), $"receivedAt {read.ReceivedAt:O}");
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"a":[1,[2,[3,{"b":[]}]],null,true,false,-1.5e3]}""")]
    [InlineData("""{"name":"Zoë","city":"東京","emoji":"🚀","mixed":"a\u00e9\ud83d\ude80"}""")]
    [InlineData("""{ "spaced" : [ 1 , 2 ] ,"quote":"say \"hi\"","slash":"a\\b\/c","ctl":"line\nbreak\ttab" }""")]
    public void KeepsRawJsonObjectsExactlyAsTheClientSentThem(string raw)
    {
        // Given an event whose object fields are this raw JSON text
        var written = TrackedEvents.Track("m-raw") with { Properties = raw, Traits = raw, Context = raw };

        // When it is written and read back
        var read = RoundTrip(written);

        // Then each field is the same text, character for character
        Assert.Equal(raw, read.Properties);
        Assert.Equal(raw, read.Traits);
        Assert.Equal(raw, read.Context);
    }

    [Fact]
    public void RoundTripsStringsThatNeedEscaping()
    {
        // Given ids and a name with quotes, backslashes, control characters and text outside ASCII
        var written = TrackedEvents.Track("m-\"quoted\"\\path") with
        {
            Event = "Café «ouvert»\n\t第一",
            UserId = "user-🚀-\u0001",
            AnonymousId = "</script><!--",
        };

        // When it is written and read back
        var read = RoundTrip(written);

        // Then they are the same strings
        Assert.Equal(written, read);
    }

    [Fact]
    public void WritesEachEventAsOneLine()
    {
        // Given events, one of them with object fields the client sent pretty-printed over several lines
        var pretty = "{\n  \"items\": [\n    1,\n    2\n  ]\r\n}";
        var events = new[]
        {
            TrackedEvents.Track("m-1"),
            TrackedEvents.Track("m-2") with { Properties = pretty, Traits = pretty, Context = pretty },
            TrackedEvents.Track("m-3"),
        };

        // When they are written
        var bytes = TrackedEvents.Lines(events);

        // Then there is one newline per event, and each line reads back as its event
        var lines = Encoding.UTF8.GetString(bytes).Split('\n');
        Assert.Equal(events.Length + 1, lines.Length);
        Assert.Equal("", lines[^1]);
        Assert.Equal(events, lines[..^1].Select(l => SpillFormat.Read(Encoding.UTF8.GetBytes(l))));
    }

    [Fact]
    public void ReadsEveryTruncationOfALineAsNull()
    {
        // Given a complete line
        var line = Line(TrackedEvents.Track("m-torn") with { Traits = """{"a":[1,2]}""", Timestamp = TrackedEvents.ReceivedAt });
        Assert.NotNull(SpillFormat.Read(line));

        // When it is cut short anywhere, Then what is left reads as no event
        for (var length = 0; length < line.Length; length++)
        {
            Assert.True(SpillFormat.Read(line.AsSpan(0, length)) is null, $"A line cut to {length} of {line.Length} bytes was read as an event.");
        }
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("\"track\"")]
    [InlineData("{\"messageId\":\"m-1\",\"type\":\"track\",\"receivedAt\":\"2026-03-01T12:00:00Z\"}}")]
    [InlineData("{\"messageId\":\"m-1\",\"type\":\"track\",\"receivedAt\":\"2026-03-01T12:00:00Z\"} trailing")]
    [InlineData("\0\0\0\0\0\0")]
    public void ReadsALineOfGarbageAsNull(string garbage)
    {
        Assert.Null(SpillFormat.Read(Encoding.UTF8.GetBytes(garbage)));
    }

    [Fact]
    public void ReadsALineOfInvalidUtf8AsNull()
    {
        // Given a line of random bytes, and a line whose messageId is not valid UTF-8
        byte[] random = [0xFF, 0xFE, 0x00, 0x9C, 0x80, 0x7B, 0xC3];
        var badId = Encoding.UTF8.GetBytes("{\"messageId\":\"__\",\"type\":\"track\",\"receivedAt\":\"2026-03-01T12:00:00Z\"}");
        var at = Encoding.UTF8.GetString(badId).IndexOf("__", StringComparison.Ordinal);
        badId[at] = 0xC3;
        badId[at + 1] = 0x28;

        // When they are read, Then neither is an event
        Assert.Null(SpillFormat.Read(random));
        Assert.Null(SpillFormat.Read(badId));
    }

    [Theory]
    [MemberData(nameof(RequiredFields))]
    public void ReadsALineMissingARequiredFieldAsNull(string field)
    {
        // Given a valid line without this field
        var line = WithField(field, value: null, remove: true);

        // When it is read, Then it is no event
        Assert.Null(SpillFormat.Read(line));
    }

    [Theory]
    [InlineData("messageId", "42")]
    [InlineData("type", "null")]
    [InlineData("type", "3")]
    [InlineData("receivedAt", "null")]
    [InlineData("receivedAt", "\"yesterday\"")]
    [InlineData("timestamp", "\"2026-13-45T00:00:00Z\"")]
    [InlineData("sentAt", "1767225600")]
    [InlineData("event", "{\"a\":1}")]
    [InlineData("userId", "true")]
    public void ReadsALineWithAFieldOfTheWrongKindAsNull(string field, string json)
    {
        // Given a valid line with this field's value replaced
        var line = WithField(field, JsonNode.Parse(json), remove: false);

        // When it is read, Then it is no event
        Assert.Null(SpillFormat.Read(line));
    }

    [Fact]
    public void ReadsALineWhoseMessageIdIsNullAsNull()
    {
        // Given a valid line whose messageId is JSON null: no event can be stored without one
        var line = WithField("messageId", value: null, remove: false);

        // When it is read
        var read = SpillFormat.Read(line);

        // Then it is no event (rather than an event whose non-nullable MessageId is null)
        Assert.True(read is null, $"Read an event with MessageId {(read?.MessageId is null ? "null" : $"'{read.MessageId}'")}.");
    }

    [Theory]
    [InlineData("Track")]
    [InlineData("TRACK")]
    [InlineData("purchase")]
    [InlineData("")]
    [InlineData(" track")]
    public void ReadsALineOfAnUnknownTypeAsNull(string type)
    {
        // Given a valid line whose type is not one of the spec's six names
        var line = WithField("type", JsonValue.Create(type), remove: false);

        // When it is read, Then it is no event
        Assert.Null(SpillFormat.Read(line));
    }

    private static TrackedEvent RoundTrip(TrackedEvent written)
    {
        var read = SpillFormat.Read(Line(written));
        Assert.NotNull(read);
        return read;
    }

    /// <summary>The event's spill line without its newline, as the store hands it to <see cref="SpillFormat.Read"/>.</summary>
    private static byte[] Line(TrackedEvent e) => TrackedEvents.Lines(e)[..^1];

    /// <summary>A line of an event with every field, with one field set to <paramref name="value"/> or removed.</summary>
    private static byte[] WithField(string field, JsonNode? value, bool remove)
    {
        var e = TrackedEvents.Track("m-1") with { AnonymousId = "anon-1", Timestamp = TrackedEvents.ReceivedAt, SentAt = TrackedEvents.ReceivedAt };
        var json = JsonNode.Parse(Line(e))!.AsObject();
        Assert.NotNull(SpillFormat.Read(Encoding.UTF8.GetBytes(json.ToJsonString())));
        if (remove)
        {
            Assert.True(json.Remove(field));
        }
        else
        {
            json[field] = value;
        }

        return Encoding.UTF8.GetBytes(json.ToJsonString());
    }
}
