using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TrackerService.Lifecycle;
using TrackerService.Sinks;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Lifecycle;

/// <summary>Readiness says what a load balancer needs: whether this instance can take events now.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task IsNotReadyWhileTheQueueRefusesRequestsAndReadyAgainOnceItHasRoom()
    {
        // Given a queue of 2 events and a store that holds the consumer's first batch (a stalled store)
        var sink = new FakeSink().HoldingWrites();
        using var app = TrackerApplication.WithQueueOfTwo(sink);
        using var client = app.CreateClient();
        using var admin = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<AdminListener>().Addresses.Single()) };
        (await client.PostAsync("/events", Bodies.Json(Bodies.Track("in-flight")))).EnsureSuccessStatusCode();
        await sink.FirstWrite.WaitAsync(Patience.Default);
        (await client.PostAsync("/events", Bodies.Json(new[] { Bodies.Track("queued-1"), Bodies.Track("queued-2") }))).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, await ReadyAsync(admin));

        // When a request is answered 503 because the queue stays full
        using (var refused = await client.PostAsync("/events", Bodies.Json(Bodies.Track("refused"))))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        // Then readiness says so: the load balancer should send events elsewhere
        using (var notReady = await admin.GetAsync("/healthz/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.Equal("Unhealthy", await notReady.Content.ReadAsStringAsync());
        }

        // And once the store is back and the queue empties, it is ready again, with nothing lost
        sink.Open();
        Assert.True(await Eventually.TrueAsync(async () => await ReadyAsync(admin) == HttpStatusCode.OK, Patience.Default), "still not ready");
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(sink.Stored.Count == 3), Patience.Default));
        (await client.PostAsync("/events", Bodies.Json(Bodies.Track("after")))).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task StaysReadyWhenTheStoreIsDownButTheSpillTakesTheEvents()
    {
        // Given a store that can't be reached: every batch goes to the spill
        using var app = new TrackerApplication(
            new() { ["Tracker:Queue:Capacity"] = "500", ["Tracker:Queue:EnqueueTimeout"] = "00:00:01" },
            services => services.AddSingleton<IEventSink>(FakeSink.Unreachable()));
        using var client = app.CreateClient();
        using var admin = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<AdminListener>().Addresses.Single()) };

        // When events keep coming
        for (var r = 0; r < 20; r++)
        {
            (await client.PostAsync("/events", Bodies.Json(Bodies.Batch(100, $"spilled-{r}")))).EnsureSuccessStatusCode();
        }

        // Then the instance still takes events: readiness answers 200 (the sink's own check may say Degraded)
        Assert.Equal(HttpStatusCode.OK, await ReadyAsync(admin));
    }

    private static async Task<HttpStatusCode> ReadyAsync(HttpClient admin)
    {
        using var response = await admin.GetAsync("/healthz/ready");
        return response.StatusCode;
    }
}
