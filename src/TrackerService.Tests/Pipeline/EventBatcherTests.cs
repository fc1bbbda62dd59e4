using System.Diagnostics;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Pipeline;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Pipeline;

public sealed class EventBatcherTests
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(200);

    private readonly FakeTimeProvider _time = new();
    private readonly EventQueue _queue;
    private readonly DeliveryBatch _batch = new(16);

    public EventBatcherTests() =>
        _queue = new EventQueue(Microsoft.Extensions.Options.Options.Create(new QueueOptions { Capacity = 1000, EnqueueTimeout = TimeSpan.FromSeconds(1) }), _time);

    [Fact]
    public async Task FillsBatchesBySizeInOrderCarryingARequestsRemainderOver()
    {
        // Given 7 events queued as a request of 2 and a request of 5, and batches of 3
        await EnqueueAsync("a", 2);
        await EnqueueAsync("b", 5);
        var batcher = NewBatcher(batchSize: 3);

        // When batches are filled, Then the first two are full at once, without waiting for the flush interval
        Assert.True(await batcher.FillAsync(_batch, CancellationToken.None).AsTask().WaitAsync(Patience.Default));
        Assert.Equal(["a-0", "a-1", "b-0"], TrackedEvents.Ids(_batch.Events));
        _batch.Clear();
        Assert.True(await batcher.FillAsync(_batch, CancellationToken.None).AsTask().WaitAsync(Patience.Default));
        Assert.Equal(["b-1", "b-2", "b-3"], TrackedEvents.Ids(_batch.Events));
        _batch.Clear();

        // And the last one holds the one event left, once the flush interval has passed
        var last = batcher.FillAsync(_batch, CancellationToken.None).AsTask();
        _time.Advance(FlushInterval);
        Assert.True(await last.WaitAsync(Patience.Default));
        Assert.Equal(["b-4"], TrackedEvents.Ids(_batch.Events));
        Assert.Equal(0, _queue.Count);
    }

    [Fact]
    public async Task TellsARequestsReceiptOnceAllItsEventsAreDeliveredAcrossBatches()
    {
        // Given a request of 5 events with a receipt, and batches of 3
        var delivered = 0;
        var receipt = new DeliveryReceipt(5, () => delivered++);
        Assert.Equal(EnqueueResult.Accepted, await _queue.EnqueueAsync(TrackedEvents.Request("r", 5), CancellationToken.None, receipt));
        var batcher = NewBatcher(batchSize: 3);

        // When the first batch (3 of its events) is delivered, then the receipt is not told yet
        Assert.True(await batcher.FillAsync(_batch, CancellationToken.None).AsTask().WaitAsync(Patience.Default));
        batcher.Release(_batch);
        _batch.Clear();
        Assert.Equal(0, delivered);
        Assert.False(receipt.IsDelivered);

        // And once the batch with the other 2 is delivered, it is told, once
        var last = batcher.FillAsync(_batch, CancellationToken.None).AsTask();
        _time.Advance(FlushInterval);
        Assert.True(await last.WaitAsync(Patience.Default));
        Assert.Equal(2, _batch.Count);
        batcher.Release(_batch);
        _batch.Clear();
        Assert.Equal(1, delivered);
        Assert.True(receipt.IsDelivered);
    }

    [Fact]
    public async Task ExposesTheRemainderOfARequestAsPending()
    {
        // Given a request of 5 and batches of 2
        await EnqueueAsync("a", 5);
        var batcher = NewBatcher(batchSize: 2);
        Assert.Equal(0, batcher.Pending.Length);

        // When a batch is filled
        Assert.True(await batcher.FillAsync(_batch, CancellationToken.None).AsTask().WaitAsync(Patience.Default));

        // Then the 3 events taken off the queue but not batched are pending, in order
        Assert.Equal(["a-0", "a-1"], TrackedEvents.Ids(_batch.Events));
        Assert.Equal(["a-2", "a-3", "a-4"], TrackedEvents.Ids(batcher.Pending.ToArray()));
        Assert.Equal(0, _queue.Count);

        // And the next batch takes them from there
        _batch.Clear();
        Assert.True(await batcher.FillAsync(_batch, CancellationToken.None).AsTask().WaitAsync(Patience.Default));
        Assert.Equal(["a-2", "a-3"], TrackedEvents.Ids(_batch.Events));
        Assert.Equal(["a-4"], TrackedEvents.Ids(batcher.Pending.ToArray()));
    }

    [Fact]
    public async Task FlushesAPartialBatchWhenTheFlushIntervalPasses()
    {
        // Given 1 event queued and batches of 100
        await EnqueueAsync("a", 1);
        var batcher = NewBatcher(batchSize: 100);

        // When a batch is filled
        var fill = batcher.FillAsync(_batch, CancellationToken.None).AsTask();

        // Then it waits for more events until the flush interval has passed, and then returns what it has
        Assert.False(fill.IsCompleted, "a partial batch must wait for the flush interval");
        _time.Advance(FlushInterval - TimeSpan.FromMilliseconds(1));
        Assert.False(fill.IsCompleted, "a partial batch must wait for the whole flush interval");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await fill.WaitAsync(Patience.Default));
        Assert.Equal(["a-0"], TrackedEvents.Ids(_batch.Events));
    }

    [Fact]
    public async Task ReturnsAPartialBatchAsSoonAsLaterEventsFillIt()
    {
        // Given a batch of 3 waiting with 1 event in it
        await EnqueueAsync("a", 1);
        var batcher = NewBatcher(batchSize: 3);
        var fill = batcher.FillAsync(_batch, CancellationToken.None).AsTask();
        Assert.False(fill.IsCompleted);

        // When a request of 2 arrives (time does not move)
        await EnqueueAsync("b", 2);

        // Then the batch is returned full without waiting for the flush interval
        Assert.True(await fill.WaitAsync(Patience.Default));
        Assert.Equal(["a-0", "b-0", "b-1"], TrackedEvents.Ids(_batch.Events));
    }

    [Fact]
    public async Task ReturnsAPartialBatchAtOnceWhenTheWriterCompletesAndThenReportsTheEnd()
    {
        // Given a batch of 100 waiting with 2 events in it
        await EnqueueAsync("a", 2);
        var batcher = NewBatcher(batchSize: 100);
        var fill = batcher.FillAsync(_batch, CancellationToken.None).AsTask();
        Assert.False(fill.IsCompleted);

        // When intake is closed (time does not move)
        _queue.CompleteWriter();

        // Then the partial batch is returned without waiting for the flush interval
        Assert.True(await fill.WaitAsync(Patience.Default));
        Assert.Equal(["a-0", "a-1"], TrackedEvents.Ids(_batch.Events));

        // And the next fill reports that this consumer is done
        _batch.Clear();
        Assert.False(await batcher.FillAsync(_batch, CancellationToken.None).AsTask().WaitAsync(Patience.Default));
        Assert.Empty(_batch.Events);
        Assert.Equal(0, batcher.Pending.Length);
    }

    [Fact]
    public async Task DeliversPendingEventsBeforeReportingTheEnd()
    {
        // Given a request of 5 in a closed queue, and batches of 2
        await EnqueueAsync("a", 5);
        _queue.CompleteWriter();
        var batcher = NewBatcher(batchSize: 2);

        // When batches are filled until the batcher reports the end
        var batches = new List<string[]>();
        while (await batcher.FillAsync(_batch, CancellationToken.None).AsTask().WaitAsync(Patience.Default))
        {
            batches.Add(TrackedEvents.Ids(_batch.Events));
            _batch.Clear();
        }

        // Then every event was delivered, in order
        string[][] expected = [["a-0", "a-1"], ["a-2", "a-3"], ["a-4"]];
        Assert.Equal(expected, batches);
    }

    [Fact]
    public async Task WaitsForAFirstEventWithoutReturningEmptyBatches()
    {
        // Given an empty queue
        var batcher = NewBatcher(batchSize: 100);

        // When a batch is filled and many flush intervals pass
        var fill = batcher.FillAsync(_batch, CancellationToken.None).AsTask();
        _time.Advance(FlushInterval * 10);

        // Then nothing is returned until there is something to return (here: the end of the queue)
        Assert.False(fill.IsCompleted, "an empty batch must not be flushed");
        _queue.CompleteWriter();
        Assert.False(await fill.WaitAsync(Patience.Default));
        Assert.Empty(_batch.Events);
    }

    [Fact]
    public async Task StopsWaitingForMoreEventsWhenCancelled()
    {
        // Given a batch of 100 waiting with 1 event in it
        await EnqueueAsync("a", 1);
        var batcher = NewBatcher(batchSize: 100);
        using var cancellation = new CancellationTokenSource();
        var fill = batcher.FillAsync(_batch, cancellation.Token).AsTask();
        Assert.False(fill.IsCompleted);

        // When the caller cancels (not the flush interval)
        await cancellation.CancelAsync();

        // Then the fill is cancelled rather than passed off as a flush, and the caller still holds the event
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fill.WaitAsync(Patience.Default));
        Assert.Equal(["a-0"], TrackedEvents.Ids(_batch.Events));
    }

    [Fact]
    public async Task LinksEachBatchToTheRequestsWhoseEventsItCarries()
    {
        // Given a request of 2 sent under one span, a request of 3 under another, and one sent untraced
        var first = await EnqueueTracedAsync("a", 2);
        var second = await EnqueueTracedAsync("b", 3);
        await EnqueueAsync("c", 1);
        var batcher = NewBatcher(batchSize: 4);

        // When two batches are filled
        Assert.True(await batcher.FillAsync(_batch, CancellationToken.None).AsTask().WaitAsync(Patience.Default));
        var firstLinks = _batch.Links.Select(l => l.Context).ToArray();
        var firstRequests = _batch.Requests;
        _batch.Clear();
        var fill = batcher.FillAsync(_batch, CancellationToken.None).AsTask();
        _time.Advance(FlushInterval);
        Assert.True(await fill.WaitAsync(Patience.Default));

        // Then the first links both spans; the second carries b's remainder and c: b's span is linked, c has none
        Assert.Equal([first, second], firstLinks);
        Assert.Equal(2, firstRequests);
        Assert.Equal(["b-2", "c-0"], TrackedEvents.Ids(_batch.Events));
        Assert.Equal([second], _batch.Links.Select(l => l.Context));
        Assert.Equal(2, _batch.Requests);
    }

    [Fact]
    public void KeepsAtMostMaxLinksButCountsEveryRequest()
    {
        // Given a batch that records more traced origins than the link limit
        var batch = new DeliveryBatch(1);
        for (var i = 0; i < DeliveryBatch.MaxLinks + 5; i++)
        {
            batch.AddOrigin(new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded));
        }

        // Then it links MaxLinks of them and counts them all; Clear forgets both
        Assert.Equal(DeliveryBatch.MaxLinks, batch.Links.Count);
        Assert.Equal(DeliveryBatch.MaxLinks + 5, batch.Requests);
        batch.Clear();
        Assert.Empty(batch.Links);
        Assert.Equal(0, batch.Requests);
    }

    private EventBatcher NewBatcher(int batchSize) => new(_queue, batchSize, FlushInterval, _time);

    private async Task EnqueueAsync(string name, int count) =>
        Assert.Equal(
            EnqueueResult.Accepted,
            await _queue.EnqueueAsync(TrackedEvents.Request(name, count), CancellationToken.None).AsTask().WaitAsync(Patience.Default));

    /// <summary>Enqueues a request as the API does, with a request span current; returns that span's context.</summary>
    private async Task<ActivityContext> EnqueueTracedAsync(string name, int count)
    {
        using var request = new Activity("POST /events").SetIdFormat(ActivityIdFormat.W3C).Start();
        await EnqueueAsync(name, count);
        return request.Context;
    }
}
