using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TrackerService.Events;
using TrackerService.Sinks;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Pipeline;

/// <summary>With the store down, batches go to the spill; once the spill is full, clients get 503 instead of the disk filling up.</summary>
public sealed class SpillBackpressureTests
{
    [Fact]
    public async Task SpillsWhileTheStoreIsDownThenAnswersServiceUnavailableWhenTheSpillIsFull()
    {
        // Given a store that is always unreachable, a 1 MiB spill and a small queue
        using var app = new TrackerApplication(
            new()
            {
                ["Tracker:Spill:MaxBytes"] = "1048576",
                ["Tracker:Queue:Capacity"] = "500",
                ["Tracker:Api:MaxBatchEvents"] = "100",
                ["Tracker:Delivery:BatchSize"] = "100",
                ["Tracker:Sink:MaxRetryAttempts"] = "1",
                ["Tracker:Sink:RetryBaseDelay"] = "00:00:00.001",
                ["Tracker:Sink:CircuitMinimumThroughput"] = "2",
                ["Tracker:Spill:ReplayInterval"] = "00:10:00",
            },
            services => services.AddSingleton<IEventSink, UnreachableSink>());
        using var client = app.CreateClient();
        var spill = Path.Combine(app.Folder, "data", "spill");

        // When clients keep posting
        var accepted = 0;
        var refusedInARow = 0;
        for (var r = 0; r < 2_000 && refusedInARow < 8; r++)
        {
            using var response = await client.PostAsync("/events", Bodies.Json(Bodies.Batch(100, $"r{r}")));
            Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.ServiceUnavailable, $"request {r}: {(int)response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                accepted += 100;
                refusedInARow = 0;
            }
            else
            {
                refusedInARow++;
            }
        }

        // Then far more than the queue holds was accepted (into the spill), and then requests were refused for good
        Assert.Equal(8, refusedInARow);
        Assert.True(accepted > 5_000, $"only {accepted} accepted");
        var spilledBytes = Directory.GetFiles(spill, "*.jsonl").Sum(f => new FileInfo(f).Length);
        Assert.InRange(spilledBytes, 1_048_576, 1_048_576 + (100 * 1024));

        // And at shutdown everything still held is spilled whatever the cap: accepted == spilled
        await app.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHost>().StopAsync();
        Assert.Equal(accepted, StoreReader.CountSpilledEvents(spill));
    }

    /// <summary>A store that can't be reached: every write fails with a transient error.</summary>
    private sealed class UnreachableSink : IEventSink
    {
        public string Name => "test";

        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<int> WriteAsync(IReadOnlyList<TrackedEvent> batch, CancellationToken cancellationToken) =>
            Task.FromException<int>(new TimeoutException("the store does not answer"));

        public bool IsTransient(Exception exception) => exception is TimeoutException;
    }
}
