using Microsoft.Extensions.Time.Testing;
using TrackerService.Events;
using TrackerService.Pipeline;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Pipeline;

/// <summary>
/// The queue's second bound, in bytes of memory: all or none, in arrival order, the bytes consumers hold until they
/// release them, the waiting requests' bytes, a request larger than the bound, and the refusal readiness reads.
/// </summary>
public sealed class EventQueueByteBoundTests
{
    private static readonly TimeSpan EnqueueTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>What one of <see cref="Large"/>'s events takes in memory.</summary>
    private static readonly long EventBytes = Large("size", 1)[0].MemoryBytes;

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task QueuesAllOrNoneOfARequestByBytes()
    {
        // Given a queue with room for 1,000 events but the bytes of 3 large ones, holding 2
        var queue = NewQueue(maxBytes: 3 * EventBytes);
        Assert.Equal(EnqueueResult.Accepted, await EnqueueAsync(queue, Large("held", 2)));

        // When a request of 2 more arrives and nothing is read for the whole enqueue timeout
        var waiting = queue.EnqueueAsync(Large("late", 2), CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted, "1 of its 2 events fits by bytes, but it must not go in partly");
        _time.Advance(EnqueueTimeout);

        // Then it is refused and none of it was queued: the count had room, the bytes did not
        Assert.Equal(EnqueueResult.Full, await waiting.WaitAsync(Patience.Default));
        Assert.Equal(2, queue.Count);
        Assert.Equal(new PendingEvents(2, 2 * EventBytes), queue.Pending);
        Assert.Equal(TrackedEvents.Ids(Large("held", 2)), ReadIds(queue));
        Assert.False(queue.TryRead(out _));
    }

    [Fact]
    public async Task CountsTheBytesAConsumerHoldsUntilItReleasesThem()
    {
        // Given a queue with the bytes of 2 large events, full, and a request of 2 waiting for room
        var queue = NewQueue(maxBytes: 2 * EventBytes);
        Assert.Equal(EnqueueResult.Accepted, await EnqueueAsync(queue, Large("held", 2)));
        var waiting = queue.EnqueueAsync(Large("late", 2), CancellationToken.None).AsTask();

        // When a consumer takes the 2 off the queue (they are in its batch, not yet stored)
        ReadIds(queue);

        // Then the request still waits: those events still take memory
        Assert.Equal(0, queue.Count);
        Assert.Equal(new PendingEvents(2, 2 * EventBytes), queue.Pending);
        Assert.False(waiting.IsCompleted, "the consumer's batch still holds the bytes");

        // And once the consumer releases them (stored or spilled), it goes in
        queue.Release(2, 2 * EventBytes);
        Assert.Equal(EnqueueResult.Accepted, await waiting.WaitAsync(Patience.Default));
        Assert.Equal(new PendingEvents(2, 2 * EventBytes), queue.Pending);
    }

    [Fact]
    public async Task AdmitsARequestLargerThanTheWholeByteBoundIntoAnEmptyQueue()
    {
        // Given an empty queue with the bytes of 1 large event
        var queue = NewQueue(maxBytes: EventBytes);

        // When a request of 3 arrives (within the API's limits, or it would not have got here)
        var result = await EnqueueAsync(queue, Large("huge", 3));

        // Then it goes in whole (refusing it would refuse it for ever), and the next request waits for all of it to go
        Assert.Equal(EnqueueResult.Accepted, result);
        var next = queue.EnqueueAsync(Large("next", 1), CancellationToken.None).AsTask();
        Assert.False(next.IsCompleted);
        ReadIds(queue);
        queue.Release(2, 2 * EventBytes);
        Assert.False(next.IsCompleted, "a third of the huge request is still held");
        queue.Release(1, EventBytes);
        Assert.Equal(EnqueueResult.Accepted, await next.WaitAsync(Patience.Default));
    }

    [Fact]
    public async Task AdmitsRequestsWaitingForBytesInArrivalOrder()
    {
        // Given a queue with the bytes of 4 large events holding 3, and a request of 2 waiting for room
        var queue = NewQueue(maxBytes: 4 * EventBytes);
        Assert.Equal(EnqueueResult.Accepted, await EnqueueAsync(queue, Large("held", 3)));
        var large = queue.EnqueueAsync(Large("large", 2), CancellationToken.None).AsTask();

        // When a request of 1 arrives, which would fit on its own
        var small = queue.EnqueueAsync(Large("small", 1), CancellationToken.None).AsTask();

        // Then it queues behind the larger one instead of overtaking it
        Assert.False(small.IsCompleted, "a smaller request must not overtake a waiting larger one");

        // And once the held ones are released, both go in, the larger one first
        ReadIds(queue);
        queue.Release(3, 3 * EventBytes);
        Assert.Equal(EnqueueResult.Accepted, await large.WaitAsync(Patience.Default));
        Assert.Equal(EnqueueResult.Accepted, await small.WaitAsync(Patience.Default));
        Assert.Equal(TrackedEvents.Ids(Large("large", 2)), ReadIds(queue));
        Assert.Equal(TrackedEvents.Ids(Large("small", 1)), ReadIds(queue));
    }

    [Fact]
    public async Task RefusesAtOnceWhenTheWaitingRequestsAlreadyHoldTheirBytes()
    {
        // Given a full queue that lets the bytes of 2 large events wait, and 2 requests of 1 waiting
        var queue = NewQueue(maxBytes: 2 * EventBytes, maxWaitingBytes: 2 * EventBytes);
        Assert.Equal(EnqueueResult.Accepted, await EnqueueAsync(queue, Large("held", 2)));
        var first = queue.EnqueueAsync(Large("first", 1), CancellationToken.None).AsTask();
        var second = queue.EnqueueAsync(Large("second", 1), CancellationToken.None).AsTask();

        // When one more arrives, with room by count (the waiting limit by events is 1,000)
        var refused = queue.EnqueueAsync(Large("third", 1), CancellationToken.None).AsTask();

        // Then it is refused without waiting (no time has passed), and the waiters go on waiting
        Assert.Equal(EnqueueResult.Full, await refused.WaitAsync(Patience.Default));
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
    }

    [Fact]
    public async Task IsRefusingFromARefusalUntilARequestOfThatSizeWouldGoIn()
    {
        // Given a queue with the bytes of 2 large events, full
        var queue = NewQueue(maxBytes: 2 * EventBytes);
        Assert.Equal(EnqueueResult.Accepted, await EnqueueAsync(queue, Large("held", 2)));
        Assert.False(queue.IsRefusing, "full is not refusing until a request is turned away");

        // When a request of 2 times out
        var refused = queue.EnqueueAsync(Large("refused", 2), CancellationToken.None).AsTask();
        _time.Advance(EnqueueTimeout);
        Assert.Equal(EnqueueResult.Full, await refused.WaitAsync(Patience.Default));

        // Then the queue is refusing, still after a consumer has taken (not released) the events, and after 1 is released
        Assert.True(queue.IsRefusing);
        ReadIds(queue);
        Assert.True(queue.IsRefusing);
        queue.Release(1, EventBytes);
        Assert.True(queue.IsRefusing, "a request of 2 would still not fit");

        // And once a request of that size would go in, it is not
        queue.Release(1, EventBytes);
        Assert.False(queue.IsRefusing);
    }

    [Fact]
    public async Task IsNotRefusingWhenTheWaitingClientGaveUp()
    {
        // Given a full queue and a request waiting for room
        var queue = NewQueue(maxBytes: EventBytes);
        Assert.Equal(EnqueueResult.Accepted, await EnqueueAsync(queue, Large("held", 1)));
        using var client = new CancellationTokenSource();
        var waiting = queue.EnqueueAsync(Large("gone", 1), client.Token).AsTask();

        // When its client goes away before the enqueue timeout
        await client.CancelAsync();

        // Then it is answered Full, but that was the client's doing, not a refusal
        Assert.Equal(EnqueueResult.Full, await waiting.WaitAsync(Patience.Default));
        Assert.False(queue.IsRefusing);
    }

    /// <summary>
    /// Events of about 4 KB each, ids <c>{name}-0</c>, <c>{name}-1</c>, …, all of the same size in memory: the
    /// padding makes up for the id's length (2 bytes a character as UTF-16, 1 as UTF-8), so the bounds are exact.
    /// </summary>
    private static TrackedEvent[] Large(string name, int count) =>
        [.. Enumerable.Range(0, count).Select(i => TrackedEvents.One($"{name}-{i}") with
        {
            Properties = $$"""{"pad":"{{new string('x', 4096 + (2 * (20 - $"{name}-{i}".Length)))}}"}""",
        })];

    private static Task<EnqueueResult> EnqueueAsync(EventQueue queue, TrackedEvent[] events) =>
        queue.EnqueueAsync(events, CancellationToken.None).AsTask().WaitAsync(Patience.Default);

    private static string[] ReadIds(EventQueue queue)
    {
        Assert.True(queue.TryRead(out var request), "expected a request to read");
        return TrackedEvents.Ids(request.Events);
    }

    private EventQueue NewQueue(long maxBytes, long? maxWaitingBytes = null) =>
        new(Microsoft.Extensions.Options.Options.Create(new QueueOptions
        {
            Capacity = 1_000,
            EnqueueTimeout = EnqueueTimeout,
            MaxWaitingEvents = 1_000,
            MaxBytes = maxBytes,
            MaxWaitingBytes = maxWaitingBytes ?? 100 * maxBytes,
        }), _time);
}
