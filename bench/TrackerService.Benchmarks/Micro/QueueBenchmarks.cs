using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Options;
using TrackerService.Events;
using TrackerService.Pipeline;

namespace TrackerService.Benchmarks.Micro;

/// <summary>
/// One request's events through <see cref="EventQueue"/>: admitted (the queue has room, the common case) and read
/// back by a consumer's <see cref="EventQueue.TryRead"/>. Per request; events/s is EventsPerRequest / Mean.
/// </summary>
[MemoryDiagnoser]
public class QueueBenchmarks
{
    private EventQueue? _queue;
    private TrackedEvent[] _events = [];
    private long _bytes;

    [Params(1, 100)]
    public int EventsPerRequest { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _queue = new EventQueue(Microsoft.Extensions.Options.Options.Create(new QueueOptions()), TimeProvider.System);
        var receivedAt = DateTimeOffset.UtcNow;
        _events = [.. Enumerable.Range(0, EventsPerRequest).Select(i => SampleEvents.Tracked(SampleEvents.Id("m-queue", i), i, receivedAt))];
        _bytes = _events.Sum(e => e.MemoryBytes);
    }

    [Benchmark]
    public int EnqueueDequeue()
    {
        var enqueued = _queue!.EnqueueAsync(_events, CancellationToken.None);
        if (!enqueued.IsCompletedSuccessfully || enqueued.Result != EnqueueResult.Accepted)
        {
            throw new InvalidOperationException("a queue with room did not admit the request at once");
        }

        if (!_queue.TryRead(out var request))
        {
            throw new InvalidOperationException("nothing to read");
        }

        // As a consumer does once its batch is stored: the events' bytes stop counting against the queue's bound.
        _queue.Release(request.Events.Length, _bytes);
        return request.Events.Length;
    }
}
