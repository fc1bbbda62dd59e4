using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Api;
using TrackerService.Events;

namespace TrackerService.Tests.Streaming;

/// <summary>The parsers stamp each event with the span of the request it came in (what a stream's message headers carry on).</summary>
public sealed class EventOriginTests
{
    [Fact]
    public void EventsOfARequestCarryItsSpanAndOthersNone()
    {
        var body = Encoding.UTF8.GetBytes("""[{"type":"track","event":"e","userId":"u"},{"type":"identify","userId":"u"}]""");
        var parser = new EventBatchParser(new ApiOptions(), new FakeTimeProvider());
        using var request = new Activity("request").Start();

        var events = parser.Parse(body).Events;

        Assert.All(events, e => Assert.Equal(request.Context, e.Origin));
        request.Stop();
        Assert.All(parser.Parse(body).Events, e => Assert.Equal(default, e.Origin));
    }

    [Fact]
    public void SegmentEventsAndTheStandInsOfRefusedOnesCarryTheRequestsSpan()
    {
        var body = Encoding.UTF8.GetBytes("""{"batch":[{"type":"track","event":"e","userId":"u"},{"type":"track","userId":"u"}]}""");
        using var request = new Activity("request").Start();

        var events = new SegmentBatchParser(new ApiOptions(), new FakeTimeProvider()).Parse(body, callType: null).Events!;

        Assert.Equal([false, true], events.Select(e => e.Rejection is not null));
        Assert.All(events, e => Assert.Equal(request.Context, e.Origin));
    }
}
