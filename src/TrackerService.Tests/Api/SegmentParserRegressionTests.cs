using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Api;
using TrackerService.Events;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary>
/// What the property tests found (<see cref="SegmentParserPropertyTests"/>): text that is not text (an unpaired
/// surrogate escape, invalid UTF-8) where the parsers decoded a string without asking made them throw, and the
/// request was answered 500. Each is now an invalid event, an unusable write key or a malformed body.
/// </summary>
public sealed class SegmentParserRegressionTests
{
    private readonly SegmentBatchParser _parser = new(new ApiOptions(), new FakeTimeProvider());

    [Theory]
    [InlineData("""{"batch":[],"writeKey":"\ud800"}""")]
    [InlineData("""{"batch":[],"writeKey":"\udc00x"}""")]
    public void AWriteKeyThatIsNotTextIsNoKey(string body)
    {
        var parsed = Parse(body);

        Assert.Null(parsed.Malformed);
        Assert.Null(parsed.WriteKey);
    }

    [Fact]
    public void AWriteKeyOfInvalidUtf8IsNoKey()
    {
        var body = Encoding.UTF8.GetBytes("""{"batch":[],"writeKey":"k?y"}""");
        body[^4] = 0xFF; // the "?"

        var parsed = _parser.Parse(body, null);

        Assert.Null(parsed.Malformed);
        Assert.Null(parsed.WriteKey);
    }

    [Fact]
    public void ASingleCallsWriteKeyThatIsNotTextIsNoKey()
    {
        var parsed = Parse("""{"event":"e","userId":"u","writeKey":"\ud800"}""", EventType.Track);

        Assert.Null(parsed.WriteKey);
        Assert.Equal(0, parsed.Rejected);
        Assert.Equal("e", Assert.Single(parsed.Events).Event);
    }

    [Theory]
    [InlineData("""\ud800""")]
    [InlineData("""2026-01-31T12:00:00\udc00""")]
    public void ATimeWithAnUnpairedSurrogateRejectsTheEventAlone(string time)
    {
        var parsed = Parse($$"""{"batch":[{"type":"track","event":"e","userId":"u","messageId":"m1","timestamp":"{{time}}"},{"type":"identify","userId":"u"}]}""");

        Assert.Equal(1, parsed.Rejected);
        var rejection = parsed.Events[0].Rejection!;
        Assert.Equal("timestamp", rejection.Field);
        Assert.Equal("m1", parsed.Events[0].MessageId);
        Assert.Null(parsed.Events[1].Rejection);
    }

    [Fact]
    public void AnEnvelopeSentAtWithAnUnpairedSurrogateIsMalformed()
    {
        var parsed = Parse("""{"batch":[],"sentAt":"\udc00xx"}""");

        Assert.Contains("sentAt", parsed.Malformed);
        Assert.Empty(parsed.Events);
    }

    [Fact]
    public void AnEventFieldNameThatIsNotTextRejectsTheEventAlone()
    {
        var parsed = Parse("""{"batch":[{"\ud800":1,"type":"track","event":"e","userId":"u","messageId":"m2"},{"type":"identify","userId":"u"}]}""");

        Assert.Equal(1, parsed.Rejected);
        Assert.Equal("$", parsed.Events[0].Rejection!.Field);
        Assert.Null(parsed.Events[1].Rejection);
    }

    [Fact]
    public void AnEnvelopeFieldNameThatIsNotTextIsMalformed()
    {
        var parsed = Parse("""{"\ud800":1,"batch":[{"type":"identify","userId":"u"}]}""");

        Assert.NotNull(parsed.Malformed);
        Assert.Empty(parsed.Events);
    }

    [Theory]
    [InlineData("""[{"\ud800":1,"event":"e","userId":"u"}]""", "[0].$")]
    [InlineData("""[{"event":"e","userId":"u","sentAt":"\ud800"}]""", "[0].sentAt")]
    public void EventsApiRefusesTheSameAsAnInvalidEvent(string body, string key)
    {
        var result = new EventBatchParser(new ApiOptions(), new FakeTimeProvider()).Parse(Encoding.UTF8.GetBytes(body));

        Assert.Equal(EventParseOutcome.Invalid, result.Outcome);
        Assert.Equal([key], result.Errors.Select(e => e.Key));
    }

    [Theory]
    [InlineData("/v1/batch", """{"batch":[{"type":"track","event":"e","userId":"u","timestamp":"\ud800"}],"writeKey":"\ud800"}""", HttpStatusCode.OK)]
    [InlineData("/v1/t", """{"event":"e","userId":"u","writeKey":"\ud800"}""", HttpStatusCode.OK)]
    [InlineData("/v1/batch", """{"\ud800":1,"batch":[]}""", HttpStatusCode.BadRequest)]
    [InlineData("/events", """{"\ud800":1,"event":"e","userId":"u"}""", HttpStatusCode.BadRequest)]
    public async Task OverHttpTheyAreAnsweredNot500(string path, string body, HttpStatusCode expected)
    {
        using var app = new TrackerApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(expected, response.StatusCode);
    }

    private SegmentParseResult Parse(string body, EventType? call = null) => _parser.Parse(Encoding.UTF8.GetBytes(body), call);
}
