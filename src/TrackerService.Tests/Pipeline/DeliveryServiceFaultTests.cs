using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TrackerService.Events;
using TrackerService.Lifecycle;
using TrackerService.Sinks;
using TrackerService.Spill;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Pipeline;

/// <summary>A sink that fails for good stops the whole service, and nothing accepted is lost.</summary>
public sealed class DeliveryServiceFaultTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task StopsTheServiceWithExitCodeOneAndSpillsEveryAcceptedEventWhenTheSinkFailsForGood()
    {
        // Given a service whose sink holds its first write and then fails with a non-transient error
        var sink = new BrokenSink();
        using var app = new TrackerApplication(
            new() { ["Tracker:Delivery:BatchSize"] = "7" },
            services => services.AddSingleton<IEventSink>(sink));
        using var client = app.CreateClient();

        // (resolved up front: once stopping begins, Program's own RunAsync stops and disposes the host)
        var host = app.Services.GetRequiredService<IHost>();
        var failure = app.Services.GetRequiredService<ComponentFailure>();
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStopping = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());

        // And events accepted while that write is held
        var accepted = new List<string>();
        for (var r = 0; r < 5; r++)
        {
            using var response = await client.PostAsync("/events", Bodies.Json(Bodies.Batch(10, $"f{r}")));
            response.EnsureSuccessStatusCode();
            accepted.AddRange(Enumerable.Range(0, 10).Select(i => $"f{r}-{i}"));
        }

        await sink.FirstWrite.WaitAsync(Timeout);

        // When the write fails
        sink.Fail();

        // Then the service stops itself
        await stopping.Task.WaitAsync(Timeout);
        await host.StopAsync().WaitAsync(Timeout);

        // And exits with code 1, with every accepted event, once each, in the spill
        Assert.Equal(1, failure.ExitCode);
        var spillFolder = Path.Combine(app.Folder, "data", "spill");
        var spilled = new List<string>();
        foreach (var segment in Directory.GetFiles(spillFolder, "*.jsonl"))
        {
            var read = await SpillStore.ReadAsync(segment, CancellationToken.None);
            Assert.False(read.Corrupt || read.TornTail, $"{segment} is damaged.");
            spilled.AddRange(read.Events.Select(e => e.MessageId));
        }

        Assert.Equal(accepted.Order(StringComparer.Ordinal), spilled.Order(StringComparer.Ordinal));
    }

    /// <summary>A store that holds every write until <see cref="Fail"/>, then refuses it with an error retrying can't fix.</summary>
    private sealed class BrokenSink : IEventSink
    {
        public string Name => "test";

        private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _firstWrite = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstWrite => _firstWrite.Task;

        public void Fail() => _failed.TrySetResult();

        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public bool IsTransient(Exception exception) => false;

        public async Task<int> WriteAsync(IReadOnlyList<TrackedEvent> batch, CancellationToken cancellationToken)
        {
            _firstWrite.TrySetResult();
            await _failed.Task.WaitAsync(cancellationToken);
            throw new InvalidOperationException("The store's schema is broken.");
        }
    }
}
