using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TrackerService.Sinks;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Pipeline;

/// <summary>A full queue pushes back on clients with 503 and Retry-After, and takes nothing from them.</summary>
public sealed class BackpressureTests
{
    [Fact]
    public async Task AnswersServiceUnavailableWhenTheQueueStaysFull()
    {
        // Given a queue of 2 events and a sink that holds the consumer's first batch
        var sink = new FakeSink().HoldingWrites();
        using var app = TrackerApplication.WithQueueOfTwo(sink);
        using var client = app.CreateClient();
        (await client.PostAsync("/events", Bodies.Json(Bodies.Track("in-flight")))).EnsureSuccessStatusCode();
        await sink.FirstWrite.WaitAsync(Patience.Default);
        (await client.PostAsync("/events", Bodies.Json(new[] { Bodies.Track("queued-1"), Bodies.Track("queued-2") }))).EnsureSuccessStatusCode();

        // When one more event is posted
        using var refused = await client.PostAsync("/events", Bodies.Json(Bodies.Track("refused")));

        // Then it is refused with problem details and Retry-After, and never stored
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        await Problem.ReadAsync(refused);
        sink.Open();
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(sink.Stored.Count == 3), Patience.Default));
        Assert.Equal(["in-flight", "queued-1", "queued-2"], sink.Stored.Keys.Order());
    }
}
