using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TrackerService.Lifecycle;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Loading;

/// <summary>The loader role in process (<c>Tracker:Role=Loader</c>) against one real nats-server, into a real SQLite file.</summary>
public sealed class StreamLoaderTests : IAsyncLifetime
{
    private NatsServer _server = null!;

    public async Task InitializeAsync() => _server = await NatsServer.StartAsync();

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task LoadsWhatThePublisherSentOnceAndAcksEveryMessage()
    {
        // Given 250 events and two rejected stand-ins in the stream
        var standIns = new[] { TrackedEvents.One("r-1"), TrackedEvents.One("r-2") }
            .Select(e => e with { Rejection = new TrackerService.Events.EventRejection("{\"type\":\"track\"}", "event: Required for a track call.", "event") });
        await StreamWriting.PublishAsync(_server.Url, [.. TrackedEvents.Many(250, "m"), .. standIns]);

        // When a loader starts
        using var app = Loader();
        using var admin = Admin(app);

        // Then the events are stored once, the stand-ins are dead-letter rows, and the stream has nothing left for it
        await app.WaitForStoredAsync(250);
        await StoreReader.WaitForRejectedAsync(app.DatabasePath, 2);
        await StreamWriting.WaitForAllAckedAsync(_server.Url);
        Assert.Equal(250, await app.CountStoredAsync("message_id LIKE 'm-%'"));
        Assert.Equal("Healthy", await admin.GetStringAsync("/healthz/ready"));
    }

    [Fact]
    public async Task AMessageThatIsNoEventIsDeadLetteredWithItsPayloadAndAckedWithoutHoldingUpTheRest()
    {
        // Given the stream with events, and two messages something else published: text, and bytes that are not UTF-8
        await StreamWriting.PublishAsync(_server.Url, TrackedEvents.Many(3, "before"));
        await StreamWriting.PublishRawAsync(_server.Url, "tracker.events.track", "not an event"u8.ToArray(), messageId: "junk-1");
        await StreamWriting.PublishRawAsync(_server.Url, "tracker.events.page", [0x7b, 0xff, 0xfe]);
        await StreamWriting.PublishAsync(_server.Url, TrackedEvents.Many(3, "after"));

        // When a loader reads it
        using var app = Loader();
        _ = app.Services;

        // Then the events are stored, the two messages are dead-letter rows with their payloads, and all are acked
        await app.WaitForStoredAsync(6);
        await StoreReader.WaitForRejectedAsync(app.DatabasePath, 2);
        await StreamWriting.WaitForAllAckedAsync(_server.Url);
        var rows = await StoreReader.QueryAsync(app.DatabasePath, "SELECT message_id, raw, reason FROM rejected_events ORDER BY message_id");
        Assert.Equal(["TRACKER_EVENTS:5", "junk-1"], rows.Select(r => (string)r[0]!));
        Assert.Equal(["{\uFFFD\uFFFD", "not an event"], rows.Select(r => (string)r[1]!));
        Assert.All(rows, r => Assert.StartsWith("not an event: the payload of the message on tracker.events.", (string)r[2]!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AStoreThatIsDownGetsNothingAckedAndEverythingIsLoadedOnceItIsBack()
    {
        // Given a loader with short store timeouts and a quick circuit, whose SQLite file another connection locks
        using var app = Loader(QuickOutage.With(new()
        {
            ["Tracker:Sink:AttemptTimeout"] = "00:00:00.500",
        }));
        using var admin = Admin(app);
        var store = await StoreReader.LockAsync(app.DatabasePath);
        try
        {
            // When events arrive while the store is locked
            await StreamWriting.PublishAsync(_server.Url, TrackedEvents.Many(50, "m"));

            // Then the loader hands them back and gets them again, acks none, and says the store is unavailable
            Assert.True(await Eventually.TrueAsync(async () => (await StreamWriting.ConsumerAsync(_server.Url)).NumRedelivered > 0, Patience.Default),
                "the batch was not handed back and delivered again");
            Assert.True(await Eventually.TrueAsync(async () => (await admin.GetStringAsync("/healthz/ready")) == "Degraded", Patience.Default), "readiness did not say Degraded");
            var consumer = await StreamWriting.ConsumerAsync(_server.Url);
            Assert.Equal(0ul, consumer.AckFloor.StreamSeq);
        }
        finally
        {
            await store.DisposeAsync();
        }

        // And once the store is back, every event is stored once and acked
        await app.WaitForStoredAsync(50, TimeSpan.FromSeconds(30));
        await StreamWriting.WaitForAllAckedAsync(_server.Url);
    }

    [Fact]
    public async Task ALoaderTakesNoEventsItsPublicPortAnswersEveryPathWithA404Problem()
    {
        using var app = Loader();
        using var client = app.CreateClient();

        foreach (var path in new[] { "/events", "/v1/batch", "/v1/track" })
        {
            using var response = await client.PostAsync(path, Bodies.Json(Bodies.Track()));

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(0, await app.CountStoredAsync());
    }

    private TrackerApplication Loader(Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?> { ["Tracker:Role"] = "Loader", ["Tracker:JetStream:Url"] = _server.Url };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return new TrackerApplication(settings);
    }

    private static HttpClient Admin(TrackerApplication app) =>
        new() { BaseAddress = new Uri(app.Services.GetRequiredService<AdminListener>().Addresses.Single()) };
}
