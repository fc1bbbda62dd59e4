using System.Text;
using TrackerService.Api;
using TrackerService.Events;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary>
/// One event object read against the contract: which fields it has, what makes it whole (a type, a name for a
/// track event, a user), the ids and times the server gives it, and its depth. Each field's own rules are
/// <see cref="EventFieldsTests"/>.
/// </summary>
public sealed class EventReaderTests
{
    private const string ValidEvent = EventJson.Valid;

    private static readonly DateTimeOffset ReceivedAt = EventRead.ReceivedAt;

    [Fact]
    public void TypeDefaultsToTrackWhenOmitted()
    {
        var result = Read(ValidEvent);

        Assert.Equal(EventType.Track, result.Valid().Type);
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
        var result = Read(body);

        // Then
        Assert.Equal(expected, result.Valid().Type.ToString());
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
        var result = Read(body);

        // Then
        Assert.Equal(["[0].type"], result.InvalidKeys());
    }

    [Fact]
    public void RejectsTrackEventWithoutEventName()
    {
        var result = Read("""{"type":"track","userId":"u1"}""");

        Assert.Equal(["[0].event"], result.InvalidKeys());
    }

    [Fact]
    public void RejectsEventWithoutTypeOrEventNameAsTrack()
    {
        // Given no type (so track) and no event name
        var result = Read("""{"userId":"u1"}""");

        Assert.Equal(["[0].event"], result.InvalidKeys());
    }

    [Theory]
    [InlineData("identify")]
    [InlineData("page")]
    [InlineData("screen")]
    [InlineData("group")]
    [InlineData("alias")]
    public void AcceptsNonTrackEventWithoutEventName(string type)
    {
        var result = Read($$"""{"type":"{{type}}","userId":"u1"}""");

        Assert.Null(result.Valid().Event);
    }

    [Fact]
    public void RejectsEventWithNeitherUserIdNorAnonymousId()
    {
        var result = Read("""{"event":"e","userId":null}""");

        Assert.Equal(["[0].userId"], result.InvalidKeys());
    }

    [Fact]
    public void AcceptsEventWithOnlyAnonymousId()
    {
        var result = Read("""{"event":"e","anonymousId":"a1"}""");

        var parsed = result.Valid();
        Assert.Null(parsed.UserId);
        Assert.Equal("a1", parsed.AnonymousId);
    }

    [Fact]
    public void LeavesTimestampAndSentAtNullWhenNotSent()
    {
        var parsed = Read(ValidEvent).Valid();

        Assert.Null(parsed.Timestamp);
        Assert.Null(parsed.SentAt);
    }

    [Fact]
    public void KeepsClientMessageId()
    {
        var result = Read("""{"userId":"u1","event":"e","messageId":"client-42"}""");

        Assert.Equal("client-42", result.Valid().MessageId);
    }

    [Fact]
    public void AssignsDistinctVersion7MessageIdsWhenNoneIsSent()
    {
        // Given two events without messageId, received at the same instant
        // When both are read
        var first = Read(ValidEvent).Valid();
        var second = Read(ValidEvent).Valid();

        // Then
        var ids = new[] { first, second }.Select(e => Guid.Parse(e.MessageId)).ToArray();
        Assert.All(ids, id => Assert.Equal(7, id.Version));
        Assert.NotEqual(ids[0], ids[1]);
    }

    [Fact]
    public void SetsReceivedAtToTheTimeItIsGiven()
    {
        var parsed = Read(ValidEvent).Valid();

        Assert.Equal(ReceivedAt, parsed.ReceivedAt);
    }

    [Fact]
    public void IgnoresReceivedAtSentByTheClient()
    {
        var result = Read("""{"userId":"u1","event":"e","receivedAt":"2020-01-01T00:00:00Z"}""");

        Assert.Equal(ReceivedAt, result.Valid().ReceivedAt);
    }

    [Fact]
    public void IgnoresFieldsOutsideTheContract()
    {
        var result = Read("""{"userId":"u1","extra":{"a":[1,2,{"b":null}]},"event":"e","version":2}""");

        var parsed = result.Valid();
        Assert.Equal("e", parsed.Event);
    }

    [Fact]
    public void NamesTheErrorsWithTheIndexItIsGiven()
    {
        // Given an event with two problems, read as the fourth of its batch
        var errors = new List<EventError>();

        // When
        var parsed = EventReader.Read(Encoding.UTF8.GetBytes("""{"userId":42,"event":"e","timestamp":"soon"}"""), 3, ReceivedAt, errors);

        // Then
        Assert.Null(parsed);
        Assert.Equal(["[3].timestamp", "[3].userId"], errors.Select(e => e.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AcceptsEventNestedToTheMaximumDepth()
    {
        // Given an event whose JSON is exactly 32 levels deep, the event object being level 1
        var body = EventJson.Nested(EventBatchParser.MaxEventDepth);

        // When
        var result = Read(body);

        // Then it is read whole
        Assert.Equal("e", result.Valid().Event);
    }

    [Fact]
    public void RejectsEventNestedBeyondTheMaximumDepthAsAWhole()
    {
        // Given an event 33 levels deep, with nothing else wrong
        var body = EventJson.Nested(EventBatchParser.MaxEventDepth + 1);

        // When
        var result = Read(body);

        // Then the event itself ($) is refused, once
        Assert.Equal(["[0].$"], result.InvalidKeys());
    }

    private static EventRead Read(string json) => EventRead.Of(json);

    private static EventRead Read(byte[] json) => EventRead.Of(json);
}
