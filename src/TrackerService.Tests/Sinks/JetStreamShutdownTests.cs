using System.Net;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>The real service process on the stream, stopped with SIGTERM while the NATS server is frozen (SIGSTOP).</summary>
[Collection(TrackerService.Tests.Telemetry.RunsAlone.Name)] // a deadline measured on a real process: not beside the other tests' load
public sealed class JetStreamShutdownTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-jetstream-").FullName;
    private NatsServer _server = null!;

    public async Task InitializeAsync() => _server = await NatsServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task SpillsWithinTheDeadlineWhenTheServerIsFrozenAndPublishesEverythingOnceAfterRestart()
    {
        // Given the service on the stream, with a 3 s shutdown budget, holding events while the server is frozen
        var settings = new Dictionary<string, string>
        {
            ["Tracker__Sink__Kind"] = "JetStream",
            ["Tracker__JetStream__Url"] = _server.Url,
            ["Tracker__Shutdown__Timeout"] = "00:00:03",
        };
        var first = await ServiceProcess.StartAsync(_folder, settings);
        long accepted;
        await using (first)
        {
            accepted = await PostAsync(first.Client, "before", 5);
            await StreamReading.WaitForCountAsync(_server.Url, accepted);
            _server.Freeze();
            try
            {
                accepted += await PostAsync(first.Client, "frozen", 30);

                // When it is sent SIGTERM
                var (exitCode, elapsed) = await first.TerminateAsync(TimeSpan.FromSeconds(30));

                // Then it exits 0 within the deadline + 1 s, having spilled what the stream did not ack
                Assert.Equal(0, exitCode);
                Assert.True(elapsed < TimeSpan.FromSeconds(4), $"exit took {elapsed.TotalSeconds:F2} s; the limit is 4 s");
                Assert.True(first.CountSpilledEvents() > 0, "nothing was spilled");
                Assert.Contains("Shutdown complete (deadline reached)", first.Output, StringComparison.Ordinal);
            }
            finally
            {
                _server.Thaw();
            }

            // (a publish the server read before it froze may be in the stream and in the spill: replay makes it one)
            Assert.True(await StreamReading.CountAsync(_server.Url) + first.CountSpilledEvents() >= accepted);
        }

        // When the service starts again with the server back
        await using var second = await ServiceProcess.StartAsync(_folder, settings);

        // Then the spill is replayed, and every accepted event is in the stream exactly once
        await StreamReading.WaitForCountAsync(_server.Url, accepted, TimeSpan.FromSeconds(30));
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(second.CountSpilledEvents() == 0), Patience.Default), "the spill was not emptied");
        var messages = await StreamReading.ReadAllAsync(_server.Url);
        Assert.Equal(accepted, messages.Count);
        Assert.Equal(accepted, messages.Select(m => m.MessageId).Distinct().Count());
    }

    private static async Task<long> PostAsync(HttpClient client, string prefix, int requests)
    {
        for (var r = 0; r < requests; r++)
        {
            using var response = await client.PostAsync("/events", Bodies.Json(Bodies.Batch(100, $"{prefix}-{r}")));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        return requests * 100L;
    }
}
