using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Pipeline;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Pipeline;

public sealed class EventQueueTests
{
    private static readonly TimeSpan EnqueueTimeout = TimeSpan.FromMilliseconds(250);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task AcceptsRequestsThatFitAndCountsTheirEvents()
    {
        // Given an empty queue of 10
        var queue = NewQueue(capacity: 10);

        // When a request of 4 and then one of 6 arrive
        var first = await EnqueueAsync(queue, "a", 4);
        var second = await EnqueueAsync(queue, "b", 6);

        // Then both are queued, filling it exactly, and come out whole and in order
        Assert.Equal(EnqueueResult.Accepted, first);
        Assert.Equal(EnqueueResult.Accepted, second);
        Assert.Equal(10, queue.Count);
        Assert.Equal(TrackedEvents.Ids(TrackedEvents.Request("a", 4)), ReadIds(queue));
        Assert.Equal(TrackedEvents.Ids(TrackedEvents.Request("b", 6)), ReadIds(queue));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task RejectsARequestLargerThanTheWholeQueue()
    {
        // Given a queue of 10
        var queue = NewQueue(capacity: 10);

        // When a request of 11 arrives, Then it is refused as a programming error: it could never be admitted
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => EnqueueAsync(queue, "huge", 11));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task QueuesAllOrNoneOfARequest()
    {
        // Given a queue of 10 holding 6 events
        var queue = NewQueue(capacity: 10);
        await EnqueueAcceptedAsync(queue, "held", 6);

        // When a request of 5 arrives and nobody reads for the whole enqueue timeout
        var waiting = queue.EnqueueAsync(TrackedEvents.Request("late", 5), CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted, "4 of its 5 events fit, but it must not go in partly");
        _time.Advance(EnqueueTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(waiting.IsCompleted, "it must wait for the whole enqueue timeout");
        _time.Advance(TimeSpan.FromMilliseconds(1));

        // Then it is refused, and none of its events were queued
        Assert.Equal(EnqueueResult.Full, await waiting.WaitAsync(Patience.Default));
        Assert.Equal(6, queue.Count);
        Assert.Equal(TrackedEvents.Ids(TrackedEvents.Request("held", 6)), ReadIds(queue));
        Assert.False(queue.TryRead(out _));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task AdmitsAWaitingRequestWhenAConsumerFreesRoom()
    {
        // Given a queue of 10 holding 6 events and a request of 5 waiting for room
        var queue = NewQueue(capacity: 10);
        await EnqueueAcceptedAsync(queue, "held", 6);
        var waiting = queue.EnqueueAsync(TrackedEvents.Request("late", 5), CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);

        // When a consumer takes the 6 (before the enqueue timeout)
        Assert.Equal(TrackedEvents.Ids(TrackedEvents.Request("held", 6)), ReadIds(queue));

        // Then the waiting request is queued
        Assert.Equal(EnqueueResult.Accepted, await waiting.WaitAsync(Patience.Default));
        Assert.Equal(5, queue.Count);
        Assert.Equal(TrackedEvents.Ids(TrackedEvents.Request("late", 5)), ReadIds(queue));
    }

    [Fact]
    public async Task RefusesAtOnceWhenTheWaitingRequestsAlreadyHoldTheirLimit()
    {
        // Given a full queue of 10 that lets 8 events wait, and requests of 5 and 3 events waiting for room
        var queue = NewQueue(capacity: 10, maxWaiting: 8);
        await EnqueueAcceptedAsync(queue, "held", 10);
        var first = queue.EnqueueAsync(TrackedEvents.Request("wait-5", 5), CancellationToken.None).AsTask();
        var second = queue.EnqueueAsync(TrackedEvents.Request("wait-3", 3), CancellationToken.None).AsTask();

        // When one more request arrives
        var refused = queue.EnqueueAsync(TrackedEvents.Request("one-too-many", 1), CancellationToken.None).AsTask();

        // Then it is refused without waiting (no time has passed), and the waiters are still waiting
        Assert.Equal(EnqueueResult.Full, await refused.WaitAsync(Patience.Default));
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);

        // And once a waiter has been admitted, there is room to wait again
        ReadIds(queue);
        Assert.Equal(EnqueueResult.Accepted, await first.WaitAsync(Patience.Default));
        Assert.Equal(EnqueueResult.Accepted, await second.WaitAsync(Patience.Default));
        var later = queue.EnqueueAsync(TrackedEvents.Request("later", 3), CancellationToken.None).AsTask();
        Assert.False(later.IsCompleted, "8 of 10 queued: a request of 3 waits");
    }

    [Fact]
    public async Task LetsOneRequestWaitWhateverItsSize()
    {
        // Given a full queue of 10 that lets only 2 events wait
        var queue = NewQueue(capacity: 10, maxWaiting: 2);
        await EnqueueAcceptedAsync(queue, "held", 10);

        // When a request of 6 arrives, then another of 1
        var large = queue.EnqueueAsync(TrackedEvents.Request("large", 6), CancellationToken.None).AsTask();
        var behind = queue.EnqueueAsync(TrackedEvents.Request("behind", 1), CancellationToken.None).AsTask();

        // Then the first waits (a request of any allowed size can), the second is refused at once
        Assert.Equal(EnqueueResult.Full, await behind.WaitAsync(Patience.Default));
        Assert.False(large.IsCompleted);
        ReadIds(queue);
        Assert.Equal(EnqueueResult.Accepted, await large.WaitAsync(Patience.Default));
    }

    [Fact]
    public async Task AdmitsWaitingRequestsInArrivalOrder()
    {
        // Given a queue of 10 holding 8 events, and a request of 5 waiting for room
        var queue = NewQueue(capacity: 10);
        await EnqueueAcceptedAsync(queue, "held", 8);
        var large = queue.EnqueueAsync(TrackedEvents.Request("large", 5), CancellationToken.None).AsTask();

        // When a request of 1 arrives, which would fit on its own
        var small = queue.EnqueueAsync(TrackedEvents.Request("small", 1), CancellationToken.None).AsTask();

        // Then it queues behind the large one instead of overtaking it
        Assert.False(small.IsCompleted, "a smaller request must not overtake a waiting larger one");
        Assert.Equal(8, queue.Count);

        // And once a consumer frees room, both go in, the large one first
        Assert.Equal(TrackedEvents.Ids(TrackedEvents.Request("held", 8)), ReadIds(queue));
        Assert.Equal(EnqueueResult.Accepted, await large.WaitAsync(Patience.Default));
        Assert.Equal(EnqueueResult.Accepted, await small.WaitAsync(Patience.Default));
        Assert.Equal(6, queue.Count);
        Assert.Equal(TrackedEvents.Ids(TrackedEvents.Request("large", 5)), ReadIds(queue));
        Assert.Equal(TrackedEvents.Ids(TrackedEvents.Request("small", 1)), ReadIds(queue));
    }

    [Fact]
    public async Task AdmitsSmallerRequestsWhenTheFirstWaiterTimesOut()
    {
        // Given a queue of 10 holding 8 events, a request of 5 waiting since t0,
        // and a request of 2 (which fits) waiting behind it since t0 + 100 ms
        var queue = NewQueue(capacity: 10);
        await EnqueueAcceptedAsync(queue, "held", 8);
        var large = queue.EnqueueAsync(TrackedEvents.Request("large", 5), CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(100));
        var small = queue.EnqueueAsync(TrackedEvents.Request("small", 2), CancellationToken.None).AsTask();
        Assert.False(small.IsCompleted);

        // When the large one's enqueue timeout passes (well before the small one's)
        _time.Advance(EnqueueTimeout - TimeSpan.FromMilliseconds(100));

        // Then the large one is refused and the small one behind it goes in
        Assert.Equal(EnqueueResult.Full, await large.WaitAsync(Patience.Default));
        Assert.Equal(EnqueueResult.Accepted, await small.WaitAsync(Patience.Default));
        Assert.Equal(10, queue.Count);
        Assert.Equal(TrackedEvents.Ids(TrackedEvents.Request("held", 8)), ReadIds(queue));
        Assert.Equal(TrackedEvents.Ids(TrackedEvents.Request("small", 2)), ReadIds(queue));
        Assert.False(queue.TryRead(out _));
    }

    [Fact]
    public async Task RefusesRequestsAsClosedOnceTheWriterIsCompleted()
    {
        // Given a queue whose intake is closed
        var queue = NewQueue(capacity: 10);
        queue.CompleteWriter();

        // When a request arrives
        var result = await EnqueueAsync(queue, "late", 1);

        // Then it is refused as Closed and nothing is queued
        Assert.Equal(EnqueueResult.Closed, result);
        Assert.Equal(0, queue.Count);
        Assert.False(queue.TryRead(out _));
    }

    [Fact]
    public async Task AnswersWaitingRequestsClosedWhenTheWriterIsCompleted()
    {
        // Given a full-enough queue and a request waiting for room
        var queue = NewQueue(capacity: 10);
        await EnqueueAcceptedAsync(queue, "held", 6);
        var waiting = queue.EnqueueAsync(TrackedEvents.Request("late", 5), CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);

        // When intake is closed
        queue.CompleteWriter();

        // Then the waiting request is answered Closed without waiting for its timeout, and none of it is queued
        Assert.Equal(EnqueueResult.Closed, await waiting.WaitAsync(Patience.Default));
        Assert.Equal(6, queue.Count);
        Assert.Equal(TrackedEvents.Ids(TrackedEvents.Request("held", 6)), ReadIds(queue));
        Assert.False(queue.TryRead(out _));
    }

    [Fact]
    public async Task LetsConsumersDrainWhatWasQueuedBeforeTheWriterCompleted()
    {
        // Given two queued requests
        var queue = NewQueue(capacity: 10);
        await EnqueueAcceptedAsync(queue, "a", 2);
        await EnqueueAcceptedAsync(queue, "b", 3);

        // When intake is closed
        queue.CompleteWriter();

        // Then consumers are told there is more to read until they have taken both, and then that the queue is done
        Assert.True(await queue.WaitToReadAsync(CancellationToken.None).AsTask().WaitAsync(Patience.Default));
        Assert.Equal(TrackedEvents.Ids(TrackedEvents.Request("a", 2)), ReadIds(queue));
        Assert.True(await queue.WaitToReadAsync(CancellationToken.None).AsTask().WaitAsync(Patience.Default));
        Assert.False(queue.Completion.IsCompleted);
        Assert.Equal(TrackedEvents.Ids(TrackedEvents.Request("b", 3)), ReadIds(queue));
        Assert.False(await queue.WaitToReadAsync(CancellationToken.None).AsTask().WaitAsync(Patience.Default));
        await queue.Completion.WaitAsync(Patience.Default);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task StaysWithinCapacityAndDeliversEveryAcceptedEventExactlyOnceUnderConcurrency()
    {
        // Given a small queue, two consumers (as the service runs by default), and a clock that keeps
        // moving so that some waiting requests time out while others are being admitted
        const int Enqueuers = 50;
        const int RequestsEach = 100;
        var queue = NewQueue(capacity: 64, enqueueTimeout: TimeSpan.FromMilliseconds(5));
        var overCapacity = 0;
        void CheckCount()
        {
            if (queue.Count > queue.Capacity)
            {
                Interlocked.Increment(ref overCapacity);
            }
        }

        var accepted = new ConcurrentBag<string>();
        var acceptedRequests = 0;
        var refused = 0;
        var closed = 0;

        async Task<List<string>> ConsumeAsync()
        {
            var read = new List<string>();
            while (await queue.WaitToReadAsync(CancellationToken.None))
            {
                while (queue.TryRead(out var request))
                {
                    read.AddRange(TrackedEvents.Ids(request.Events));
                    CheckCount();
                    queue.Release(request.Events.Length, EventQueue.SizeOf(request.Events)); // stored, as a consumer would say
                }
            }

            return read;
        }

        async Task EnqueueManyAsync(int enqueuer)
        {
            for (var r = 0; r < RequestsEach; r++)
            {
                var request = TrackedEvents.Request($"{enqueuer}/{r}", ((enqueuer + r) % 8) + 1);
                switch (await queue.EnqueueAsync(request, CancellationToken.None))
                {
                    case EnqueueResult.Accepted:
                        Interlocked.Increment(ref acceptedRequests);
                        foreach (var e in request)
                        {
                            accepted.Add(e.MessageId);
                        }

                        break;
                    case EnqueueResult.Full:
                        Interlocked.Increment(ref refused);
                        break;
                    default:
                        Interlocked.Increment(ref closed);
                        break;
                }

                CheckCount();
            }
        }

        var consumers = new[] { Task.Run(ConsumeAsync), Task.Run(ConsumeAsync) };
        var enqueuers = Task.WhenAll(Enumerable.Range(0, Enqueuers).Select(i => Task.Run(() => EnqueueManyAsync(i))));
        using var stopClock = new CancellationTokenSource();
        var clock = Task.Run(async () =>
        {
            while (!stopClock.IsCancellationRequested)
            {
                _time.Advance(TimeSpan.FromMilliseconds(1));
                await Task.Yield();
            }
        });

        // When every enqueuer is done and intake is closed
        try
        {
            await enqueuers.WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            // Also on failure: the clock must not spin on after the test.
            await stopClock.CancelAsync();
            queue.CompleteWriter();
        }

        await clock.WaitAsync(Patience.Default);
        List<string> read = [.. (await Task.WhenAll(consumers).WaitAsync(Patience.Default)).SelectMany(ids => ids)];

        // Then the queue never held more than its capacity, and exactly the accepted events were read, each once
        Assert.Equal(0, overCapacity);
        Assert.Equal(0, closed);
        Assert.Equal(Enqueuers * RequestsEach, acceptedRequests + refused);
        Assert.NotEmpty(accepted);
        Assert.Equal(read.Count, read.Distinct().Count());
        Assert.Equal(accepted.Count, read.Count);
        Assert.Equal(accepted.Order(StringComparer.Ordinal), read.Order(StringComparer.Ordinal));
        Assert.Equal(0, queue.Count);
    }

    private EventQueue NewQueue(int capacity, TimeSpan? enqueueTimeout = null, int? maxWaiting = null) =>
        new(Microsoft.Extensions.Options.Options.Create(new QueueOptions
        {
            Capacity = capacity,
            EnqueueTimeout = enqueueTimeout ?? EnqueueTimeout,
            MaxWaitingEvents = maxWaiting ?? capacity,
        }), _time);

    /// <summary>Enqueues a request expected to be answered without waiting; a regression fails instead of hanging the run.</summary>
    private static Task<EnqueueResult> EnqueueAsync(EventQueue queue, string name, int count) =>
        queue.EnqueueAsync(TrackedEvents.Request(name, count), CancellationToken.None).AsTask().WaitAsync(Patience.Default);

    private static async Task EnqueueAcceptedAsync(EventQueue queue, string name, int count) =>
        Assert.Equal(EnqueueResult.Accepted, await EnqueueAsync(queue, name, count));

    private static string[] ReadIds(EventQueue queue)
    {
        Assert.True(queue.TryRead(out var request), "expected a request to read");
        return TrackedEvents.Ids(request.Events);
    }
}
