using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Lifecycle;
using TrackerService.Pipeline;
using TrackerService.Sinks;
using TrackerService.Spill;
using TrackerService.Telemetry;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Pipeline;

/// <summary>Starting the consumers, and draining them at shutdown within the budget: through the real service, and on its own on a fake clock.</summary>
public sealed class DeliveryServiceTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(TrackedEvents.ReceivedAt);
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("delivery-tests-");
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly TrackerTelemetry _telemetry;
    private readonly EventQueue _queue;
    private readonly SpillStore _spill;

    public DeliveryServiceTests()
    {
        _telemetry = new TrackerTelemetry(_services.GetRequiredService<IMeterFactory>());
        _queue = new EventQueue(Microsoft.Extensions.Options.Options.Create(new QueueOptions { Capacity = 1000 }), _time);
        _spill = new SpillStore(
            Microsoft.Extensions.Options.Options.Create(new SpillOptions { Directory = Path.Combine(_temp.FullName, "spill") }),
            _time,
            NullLogger<SpillStore>.Instance);
    }

    public void Dispose()
    {
        _telemetry.Dispose();
        _services.Dispose();
        _temp.Delete(recursive: true);
    }

    [Fact]
    public async Task DrainsEveryAcceptedEventWhenTheHostStops()
    {
        // Given events accepted while the flush interval is long, so they are still queued or batching
        using var app = new TrackerApplication(new() { ["Tracker:Delivery:FlushInterval"] = "00:01:00" });
        using var client = app.CreateClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(r => client.PostAsync("/events", Bodies.Json(Bodies.Batch(37, $"d{r}")))));
        Assert.All(responses, r => r.EnsureSuccessStatusCode());

        // When the host stops
        await app.Services.GetRequiredService<IHost>().StopAsync();

        // Then every accepted event is in the store
        Assert.Equal(370, await app.CountStoredAsync());
    }

    [Fact]
    public async Task StartsTheConfiguredNumberOfConsumersEachWritingABatchOfItsOwn()
    {
        // Given 3 consumers writing batches of 1 to a store that holds every write
        var sink = new FakeSink().HoldingWrites();
        using var delivery = NewService(sink, consumers: 3, batchSize: 1);
        await delivery.StartAsync(CancellationToken.None);

        // When 4 requests of one event are queued
        for (var r = 0; r < 4; r++)
        {
            await EnqueueAsync($"c{r}", 1);
        }

        // Then 3 writes are held at once, one per consumer, and the fourth request waits in the queue for one of them
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(sink.Writes == 3), Patience.Default), $"{sink.Writes} writes");
        Assert.Equal(3, delivery.InFlight);
        Assert.Equal(1, _queue.Count);

        // And once the store lets go, the drain delivers all 4 and spills nothing
        sink.Open();
        _queue.CompleteWriter();
        using var budget = new DrainBudget(TimeSpan.FromSeconds(10), _time, NullLogger.Instance);
        var result = await delivery.DrainAsync(budget).WaitAsync(Patience.Default);
        Assert.Equal(new DrainResult(0, DeadlineReached: false), result);
        Assert.Equal(4, delivery.Delivered);
        Assert.Equal(["c0-0", "c1-0", "c2-0", "c3-0"], sink.Stored.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SpillsEverythingQueuedAndUnconfirmedWhenTheBudgetEndsTheDrain()
    {
        // Given one consumer whose first batch of 2 the store holds, and 3 more events queued behind it
        var sink = new FakeSink().HoldingWrites();
        using var delivery = NewService(sink, consumers: 1, batchSize: 2);
        await delivery.StartAsync(CancellationToken.None);
        await EnqueueAsync("a", 2);
        await sink.FirstWrite.WaitAsync(Patience.Default);
        await EnqueueAsync("b", 3);
        _queue.CompleteWriter();

        // When the drain is given 2 s, and the clock runs to where the 5 events left need the rest to be spilled
        using var budget = new DrainBudget(TimeSpan.FromSeconds(2), _time, NullLogger.Instance);
        var drain = delivery.DrainAsync(budget);
        for (var step = 0; step < 34 && !budget.DrainEnd.IsCancellationRequested; step++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(50));
        }

        // Then the drain ended before the deadline, the held write was cut short, and all 5 events are in the spill
        var result = await drain.WaitAsync(Patience.Default);
        Assert.Equal(new DrainResult(5, DeadlineReached: true), result);
        Assert.False(budget.Deadline.IsCancellationRequested);
        Assert.Equal(1, sink.Abandoned);
        Assert.Empty(sink.Stored);
        var spilled = new List<string>();
        foreach (var segment in _spill.ListSegments())
        {
            spilled.AddRange((await SpillStore.ReadAsync(segment, CancellationToken.None)).Events.Select(e => e.MessageId));
        }

        Assert.Equal(["a-0", "a-1", "b-0", "b-1", "b-2"], spilled.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task CountsWhatTheSpillCouldNotWriteByTheDeadlineAsLostAndFailsTheExitCode()
    {
        // Given one consumer whose first batch the store holds, 3 more events queued, and a spill whose folder can't be created
        await File.WriteAllTextAsync(_spill.Folder, "a file where the spill folder should be");
        var sink = new FakeSink().HoldingWrites();
        using var delivery = NewService(sink, consumers: 1, batchSize: 2);
        await delivery.StartAsync(CancellationToken.None);
        await EnqueueAsync("a", 2);
        await sink.FirstWrite.WaitAsync(Patience.Default);
        await EnqueueAsync("b", 3);
        _queue.CompleteWriter();

        // When the drain is given 2 s and the clock runs past the deadline
        using var budget = new DrainBudget(TimeSpan.FromSeconds(2), _time, NullLogger.Instance);
        var drain = delivery.DrainAsync(budget);
        for (var step = 0; step < 200 && !drain.IsCompleted; step++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Yield();
        }

        // Then the drain ends, with all 5 events counted lost, none spilled, and the exit code is a failure
        var result = await drain.WaitAsync(Patience.Default);
        Assert.Equal(new DrainResult(0, DeadlineReached: true, Lost: 5), result);
        Assert.Equal(1, _failure!.ExitCode);
    }

    private ComponentFailure? _failure;

    private DeliveryService NewService(FakeSink sink, int consumers, int batchSize)
    {
        var writer = new SinkWriter(sink, new SinkPipeline(new SinkOptions(), sink.IsTransient, _time), _time, _telemetry);
        var failure = _failure = new ComponentFailure(new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance), NullLogger<ComponentFailure>.Instance);
        var options = new DeliveryOptions { Consumers = consumers, BatchSize = batchSize, FlushInterval = TimeSpan.FromMinutes(1) };
        return new DeliveryService(
            _queue, writer, _spill, Microsoft.Extensions.Options.Options.Create(options), failure, _time, _telemetry, NullLogger<DeliveryService>.Instance);
    }

    private async Task EnqueueAsync(string name, int count) =>
        Assert.Equal(EnqueueResult.Accepted, await _queue.EnqueueAsync(TrackedEvents.Request(name, count), CancellationToken.None).AsTask().WaitAsync(Patience.Default));
}
