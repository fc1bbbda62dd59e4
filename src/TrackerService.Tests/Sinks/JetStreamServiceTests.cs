using System.Diagnostics;
using System.Net;
using TrackerService.Streaming;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>The service with <c>Tracker:Sink:Kind=JetStream</c> (in process) against one real nats-server.</summary>
public sealed class JetStreamServiceTests : IAsyncLifetime
{
    private NatsServer _server = null!;

    public async Task InitializeAsync() => _server = await NatsServer.StartAsync();

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task EventsPostedLandInTheStreamOnceWithTheirSubjectHeadersAndPayload()
    {
        // Given the service publishing to the stream, and a client's trace
        using var app = new TrackerApplication(Settings());
        using var client = app.CreateClient();
        var trace = ActivityTraceId.CreateRandom();
        string[] types = ["track", "identify", "page", "screen", "group", "alias"];
        var body = types.Select(type => (object)new { type, messageId = $"m-{type}", userId = "u-1", @event = "Clicked", groupId = "g-1" }).ToArray();

        // When it posts one of each type, and then the same request again (a client retrying), and a Segment batch
        // with an event that breaks the rules
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/events") { Content = Bodies.Json(body) };
            request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        using (var segment = await client.PostAsync("/v1/batch", Bodies.Raw("""{"batch":[{"type":"track","userId":"u-2","messageId":"s-1"},{"type":"track","event":"E","userId":"u-2","messageId":"s-2"}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, segment.StatusCode);
        }

        // Then the stream holds each event once, on its type's subject, under its messageId, with its spill line as the
        // payload and the request's trace in its headers; the rejected one on the rejected subject, under an id of its own
        await StreamReading.WaitForCountAsync(_server.Url, 8);
        var messages = (await StreamReading.ReadAllAsync(_server.Url)).ToDictionary(m => m.MessageId!);
        Assert.Equal(8, messages.Count);
        foreach (var type in types)
        {
            var message = messages[$"m-{type}"];
            Assert.Equal($"tracker.events.{type}", message.Subject);
            Assert.Equal($"m-{type}", message.Event!.MessageId);
            Assert.Equal(type, message.Event.Type.ToString().ToLowerInvariant());
            Assert.Equal(StreamMessage.Payload(message.Event), message.Payload);
            Assert.Equal(trace, StreamMessage.Origin(message.Headers).TraceId);
        }

        Assert.Equal("tracker.events.track", messages["s-2"].Subject);
        var rejected = messages["rejected:s-1"];
        Assert.Equal("tracker.events.rejected", rejected.Subject);
        Assert.Equal(("s-1", "event"), (rejected.Event!.MessageId, rejected.Event.Rejection!.Field));
        Assert.Contains("\"userId\":\"u-2\"", rejected.Event.Rejection.Raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerDownSpillsAfterRetriesAndTheSpillIsReplayedIntoTheStreamOnceItIsBack()
    {
        // Given the service on the stream, with short timeouts and a quick circuit
        using var app = new TrackerApplication(Settings(QuickOutage.With(new()
        {
            ["Tracker:JetStream:PublishTimeout"] = "00:00:00.500",
            ["Tracker:Spill:ReplayInterval"] = "00:00:00.500",
        })));
        using var client = app.CreateClient();
        var accepted = await PostAsync(client, "before", 3);
        await StreamReading.WaitForCountAsync(_server.Url, accepted);

        // When the server goes away while clients keep posting
        _server.Stop();
        accepted += await PostAsync(client, "during", 10);

        // Then the service took every request, and what it could not publish is in the spill
        var spill = Path.Combine(app.Folder, "data", "spill");
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(StoreReader.CountSpilledEvents(spill) > 0), Patience.Default), "nothing was spilled");

        // And once the server is back (same store), every accepted event is in the stream exactly once
        await _server.StartAsync();
        accepted += await PostAsync(client, "after", 2);
        await StreamReading.WaitForCountAsync(_server.Url, accepted, TimeSpan.FromSeconds(60));
        var messages = await StreamReading.ReadAllAsync(_server.Url);
        Assert.Equal(accepted, messages.Count);
        Assert.Equal(accepted, messages.Select(m => m.MessageId).Distinct().Count());
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(StoreReader.CountSpilledEvents(spill) == 0), Patience.Default), "the spill was not emptied");
    }

    private Dictionary<string, string?> Settings(Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?> { ["Tracker:Sink:Kind"] = "JetStream", ["Tracker:JetStream:Url"] = _server.Url };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Posts <paramref name="requests"/> batches of 100 events, retrying a 503 as a client does; returns how many were accepted.</summary>
    private static async Task<int> PostAsync(HttpClient client, string prefix, int requests)
    {
        for (var r = 0; r < requests; r++)
        {
            var sent = await Eventually.TrueAsync(async () =>
            {
                using var response = await client.PostAsync("/events", Bodies.Json(Bodies.Batch(100, $"{prefix}-{r}")));
                return response.StatusCode == HttpStatusCode.Accepted;
            }, TimeSpan.FromSeconds(30));
            Assert.True(sent, $"{prefix} request {r} was refused for 30 s");
        }

        return requests * 100;
    }
}
