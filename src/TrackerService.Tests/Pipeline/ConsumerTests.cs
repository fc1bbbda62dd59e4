using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Events;
using TrackerService.Lifecycle;
using TrackerService.Pipeline;
using TrackerService.Sinks;
using TrackerService.Spill;
using TrackerService.Telemetry;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Pipeline;

/// <summary>
/// One consumer's loop: batches off the queue to the store. What it does with a batch the store refuses: unavailable
/// (retries exhausted, circuit open), the batch goes to the spill, and when the spill is full too the consumer holds
/// it, so the queue fills and clients get 503; broken for good, or cut short by the deadline, the consumer ends and
/// hands back what it held. On its own on a fake clock, and through the real service.
/// </summary>
public sealed class ConsumerTests : IDisposable
{
    /// <summary>How long a consumer waits when both the store and the spill refuse a batch (Consumer's own pause).</summary>
    private static readonly TimeSpan SpillFullPause = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider _time = new(TrackedEvents.ReceivedAt);
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("consumer-tests-");
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly TrackerTelemetry _telemetry;
    private readonly EventQueue _queue;
    private readonly CancellationTokenSource _abort = new();
    private readonly RecordingLogger _log;
    private readonly ConcurrentQueue<(Exception? Failure, TrackedEvent[] Held)> _stopped = new();

    public ConsumerTests()
    {
        _telemetry = new TrackerTelemetry(_services.GetRequiredService<IMeterFactory>());
        _queue = new EventQueue(Microsoft.Extensions.Options.Options.Create(new QueueOptions { Capacity = 1000 }), _time);
        _log = new RecordingLogger(_time);
    }

    public void Dispose()
    {
        _abort.Dispose();
        _telemetry.Dispose();
        _services.Dispose();
        _temp.Delete(recursive: true);
    }

    [Fact]
    public async Task WritesBatchesOfTheBatchSizeToTheStoreUntilTheQueueIsDrained()
    {
        // Given a consumer writing batches of 2, and a request of 5 events queued, the queue then closed
        var sink = new FakeSink();
        var consumer = Start(sink);
        await EnqueueAsync("r", 5);
        _queue.CompleteWriter();

        // When the consumer has drained the queue
        await consumer.Run.WaitAsync(Patience.Default);

        // Then the store got 3 batches, every event in order, all counted delivered, nothing spilled or handed back
        Assert.Equal(3, sink.Batches);
        Assert.Equal(["r-0", "r-1", "r-2", "r-3", "r-4"], sink.Received);
        Assert.Equal(5, consumer.Delivered);
        Assert.Equal(0, consumer.Spilled);
        Assert.Equal(0, consumer.InFlight);
        Assert.Empty(_stopped);
    }

    [Fact]
    public async Task SpillsABatchTheStoreIsUnavailableForAndGoesOn()
    {
        // Given a store that can't be reached, and a request of 3 events queued, the queue then closed
        var sink = FakeSink.Unreachable();
        var consumer = Start(sink);
        await EnqueueAsync("down", 3);
        _queue.CompleteWriter();

        // When the consumer has drained the queue
        await consumer.Run.WaitAsync(Patience.Default);

        // Then each batch was tried (once and once again) and then spilled: all 3 events, in order, counted spilled
        Assert.Equal(4, sink.Writes);
        Assert.Equal(3, consumer.Spilled);
        Assert.Equal(0, consumer.Delivered);
        Assert.Equal(["down-0", "down-1", "down-2"], await ReadSpillAsync(Spill()));
        Assert.Empty(_stopped);
    }

    [Fact]
    public async Task HoldsTheBatchWhileTheStoreIsUnavailableAndTheSpillIsFullTryingAgainAfterEachPause()
    {
        // Given a store that fails 6 writes (3 rounds of a try and a retry), a full spill, and a batch of 2 queued
        var sink = new FakeSink()
            .Failing(() => new TimeoutException("The store does not answer."), writes: 6)
            .TransientWhen(ex => ex is TimeoutException);
        var spill = Spill(maxBytes: 0);
        var consumer = Start(sink, spill);
        await EnqueueAsync("held", 2);

        // When the clock runs until the store takes the batch
        var reached = await Eventually.TrueAsync(() =>
        {
            if (sink.Batches == 0 && _log.Count(211) > 0)
            {
                Assert.Equal(2, consumer.InFlight); // held, between rounds, never let go
                _time.Advance(TimeSpan.FromMilliseconds(250));
            }

            return Task.FromResult(sink.Batches == 1);
        }, Patience.Default);

        // Then it was held through 3 rounds, each a pause of at least 1 s of the clock after the last, then stored
        Assert.True(reached, $"{sink.Writes} writes, {_log.Count(211)} rounds");
        Assert.Equal(7, sink.Writes);
        var rounds = _log.Times(211);
        Assert.Equal(3, rounds.Length);
        Assert.All(rounds.Zip(rounds.Skip(1), (a, b) => b - a), gap => Assert.InRange(gap, SpillFullPause, SpillFullPause * 2));
        Assert.Equal(["held-0", "held-1"], sink.Received);
        Assert.Equal(2, consumer.Delivered);
        Assert.Equal(0, consumer.Spilled);
        Assert.Empty(spill.ListSegments());
        Assert.Empty(_stopped);
    }

    [Fact]
    public async Task EndsAndHandsBackItsBatchAndThePendingRestOfTheRequestWhenTheStoreIsBroken()
    {
        // Given a store that is broken (a failure it does not call transient), and a request of 3 events for batches of 2
        var sink = new FakeSink().Failing(() => new InvalidOperationException("The store's schema is broken."));
        var consumer = Start(sink);
        await EnqueueAsync("b", 3);

        // When the consumer writes its first batch
        await consumer.Run.WaitAsync(Patience.Default);

        // Then it ended on the first write, reporting the failure and holding its batch and the rest of the request
        Assert.Equal(1, sink.Writes);
        var (failure, held) = Assert.Single(_stopped);
        Assert.IsType<InvalidOperationException>(failure);
        Assert.Equal(["b-0", "b-1", "b-2"], TrackedEvents.Ids(held));
        Assert.Equal(0, consumer.Delivered);
        Assert.Equal(0, consumer.Spilled);
        Assert.Equal(0, consumer.InFlight);
        Assert.Empty(Spill().ListSegments());
    }

    [Fact]
    public async Task EndsAndHandsBackItsBatchWithoutAFailureWhenTheDeadlineCutsTheWriteShort()
    {
        // Given a consumer whose write the store holds
        var sink = new FakeSink().HoldingWrites();
        var consumer = Start(sink);
        await EnqueueAsync("cut", 2);
        await sink.FirstWrite.WaitAsync(Patience.Default);

        // When the deadline fires
        await _abort.CancelAsync();

        // Then the write is cancelled and the consumer ends, handing back the batch it held, with no failure
        await consumer.Run.WaitAsync(Patience.Default);
        Assert.Equal(1, sink.Abandoned);
        var (failure, held) = Assert.Single(_stopped);
        Assert.Null(failure);
        Assert.Equal(["cut-0", "cut-1"], TrackedEvents.Ids(held));
        Assert.Equal(0, consumer.Delivered);
    }

    [Fact]
    public async Task StopsTheServiceWithExitCodeOneAndSpillsEveryAcceptedEventWhenTheSinkFailsForGood()
    {
        // Given a service whose sink holds its writes and then fails them with an error retrying can't fix
        var sink = new FakeSink()
            .HoldingWrites()
            .Failing(() => new InvalidOperationException("The store's schema is broken."));
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

        await sink.FirstWrite.WaitAsync(Patience.Default);

        // When the store lets the write go, and it fails
        sink.Open();

        // Then the service stops itself
        await stopping.Task.WaitAsync(Patience.Default);
        await host.StopAsync().WaitAsync(Patience.Default);

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

    [Fact]
    public async Task SpillsWhileTheStoreIsDownThenAnswersServiceUnavailableWhenTheSpillIsFull()
    {
        // Given a store that is always unreachable, a 1 MiB spill and a small queue
        var sink = FakeSink.Unreachable();
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
            services => services.AddSingleton<IEventSink>(sink));
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
        await app.Services.GetRequiredService<IHost>().StopAsync();
        Assert.Equal(accepted, StoreReader.CountSpilledEvents(spill));
    }

    /// <summary>
    /// A consumer, started, writing batches of 2 (sent as soon as there is anything: no flush wait) to
    /// <paramref name="sink"/> (1 retry, no backoff, a circuit that does not open) or to <paramref name="spill"/>.
    /// </summary>
    private Consumer Start(FakeSink sink, SpillStore? spill = null)
    {
        var options = new SinkOptions { MaxRetryAttempts = 1, RetryBaseDelay = TimeSpan.Zero, CircuitMinimumThroughput = 1000 };
        var writer = new SinkWriter(sink, new SinkPipeline(options, sink.IsTransient, _time), _time, _telemetry);
        var consumer = new Consumer(
            0, new EventBatcher(_queue, 2, TimeSpan.Zero, _time), 2, writer, spill ?? Spill(), _time, _telemetry, _log);
        consumer.Start(() => default, (c, failure) => _stopped.Enqueue((failure, [.. c.Held])), _abort.Token);
        return consumer;
    }

    private SpillStore Spill(long maxBytes = 1L << 30) => new(
        Microsoft.Extensions.Options.Options.Create(new SpillOptions { Directory = Path.Combine(_temp.FullName, "spill"), MaxBytes = maxBytes }),
        _time,
        NullLogger<SpillStore>.Instance);

    private async Task EnqueueAsync(string name, int count) =>
        Assert.Equal(EnqueueResult.Accepted, await _queue.EnqueueAsync(TrackedEvents.Request(name, count), CancellationToken.None).AsTask().WaitAsync(Patience.Default));

    private static async Task<string[]> ReadSpillAsync(SpillStore spill)
    {
        var ids = new List<string>();
        foreach (var segment in spill.ListSegments())
        {
            ids.AddRange((await SpillStore.ReadAsync(segment, CancellationToken.None)).Events.Select(e => e.MessageId));
        }

        return [.. ids];
    }

    /// <summary>Remembers, by event id, the fake clock's time of every entry logged.</summary>
    private sealed class RecordingLogger(TimeProvider time) : ILogger
    {
        private readonly ConcurrentQueue<(int EventId, DateTimeOffset At)> _entries = new();

        public int Count(int eventId) => _entries.Count(e => e.EventId == eventId);

        public DateTimeOffset[] Times(int eventId) => [.. _entries.Where(e => e.EventId == eventId).Select(e => e.At)];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _entries.Enqueue((eventId.Id, time.GetUtcNow()));
    }
}
