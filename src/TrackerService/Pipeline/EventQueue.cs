using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using TrackerService.Events;
using TrackerService.Telemetry;

namespace TrackerService.Pipeline;

/// <summary>
/// The bounded queue between the API and the consumers, its capacity counted in events.
/// A request's events go in all or none: a channel alone can't reserve room for several items at
/// once, so a small gate counts the room and the channel carries each request's events as one item.
/// </summary>
/// <remarks>
/// Requests that find the queue full wait in arrival order (a large request is not starved by small ones)
/// for at most <see cref="QueueOptions.EnqueueTimeout"/>, up to <see cref="QueueOptions.MaxWaitingEvents"/> of them. Room is granted and the item written under one
/// lock, so a request is either queued or refused, and <see cref="CompleteWriter"/> can never strand a
/// request that was told it was accepted.
/// </remarks>
internal sealed class EventQueue
{
    private readonly Channel<QueuedRequest> _channel = Channel.CreateUnbounded<QueuedRequest>(new UnboundedChannelOptions
    {
        SingleReader = false,
        SingleWriter = false,

        // Consumers' continuations (sink work) must never run on a request thread.
        AllowSynchronousContinuations = false,
    });

    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _enqueueTimeout;
    private readonly int _maxWaitingEvents;
    private int _count;
    private int _waitingEvents;
    private bool _closed;

    public EventQueue(IOptions<QueueOptions> options, TimeProvider time, TrackerTelemetry? telemetry = null)
    {
        Capacity = options.Value.Capacity;
        _enqueueTimeout = options.Value.EnqueueTimeout;
        _maxWaitingEvents = options.Value.MaxWaitingEvents;
        _time = time;
        telemetry?.ObserveQueue(() => Count, Capacity);
    }

    /// <summary>Most events the queue holds.</summary>
    public int Capacity { get; }

    /// <summary>Events queued and not yet taken by a consumer.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Completes when the writer is completed and every item has been read.</summary>
    public Task Completion => _channel.Reader.Completion;

    /// <summary>
    /// Queues all of <paramref name="events"/>, or none of them, with the current span (the request's) as their origin.
    /// </summary>
    public async ValueTask<EnqueueResult> EnqueueAsync(TrackedEvent[] events, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(events.Length, Capacity);
        var request = new QueuedRequest(events, Activity.Current?.Context ?? default);
        Waiter waiter;
        lock (_lock)
        {
            if (_closed)
            {
                return EnqueueResult.Closed;
            }

            if (_waiters.Count == 0 && _count + events.Length <= Capacity)
            {
                Admit(request);
                return EnqueueResult.Accepted;
            }

            // Waiting requests hold their parsed events too: beyond MaxWaitingEvents of them, refuse at once,
            // so memory stays bounded however many clients pile up. The first waiter is always let in, so a
            // request of any allowed size can wait.
            if (_waiters.Count > 0 && _waitingEvents + events.Length > _maxWaitingEvents)
            {
                return EnqueueResult.Full;
            }

            waiter = new Waiter(request);
            waiter.Node = _waiters.AddLast(waiter);
            _waitingEvents += events.Length;
        }

        using var timeout = new CancellationTokenSource(_enqueueTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        using (linked.Token.UnsafeRegister(static (state, _) => { var (queue, w) = ((EventQueue, Waiter))state!; queue.GiveUp(w); }, (this, waiter)))
        {
            return await waiter.Result.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Waits until an item can be read; false once the writer is completed and the queue is empty.</summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) =>
        _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>Takes one request's events off the queue, making room for waiting requests.</summary>
    public bool TryRead(out QueuedRequest request)
    {
        if (!_channel.Reader.TryRead(out request))
        {
            return false;
        }

        lock (_lock)
        {
            _count -= request.Events.Length;
            AdmitWaiters();
        }

        return true;
    }

    /// <summary>
    /// Closes intake: later and waiting requests get <see cref="EnqueueResult.Closed"/>, and consumers see the
    /// end of the queue once they have read what is in it. Called by the ingress side only, after the HTTP
    /// server has stopped taking requests.
    /// </summary>
    public void CompleteWriter()
    {
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            foreach (var waiter in _waiters)
            {
                waiter.Node = null;
                waiter.Result.TrySetResult(EnqueueResult.Closed);
            }

            _waiters.Clear();
            _waitingEvents = 0;
            _channel.Writer.TryComplete();
        }
    }

    private void Admit(QueuedRequest request)
    {
        _count += request.Events.Length;

        // An unbounded channel that is not completed always takes the item; _closed is checked under the same lock.
        _channel.Writer.TryWrite(request);
    }

    /// <summary>Admits waiting requests in arrival order while the first of them fits. Call under the lock.</summary>
    private void AdmitWaiters()
    {
        while (_waiters.First is { } first && _count + first.Value.Events.Length <= Capacity)
        {
            _waiters.RemoveFirst();
            first.Value.Node = null;
            _waitingEvents -= first.Value.Events.Length;
            Admit(first.Value.Request);
            first.Value.Result.TrySetResult(EnqueueResult.Accepted);
        }
    }

    private void GiveUp(Waiter waiter)
    {
        lock (_lock)
        {
            if (waiter.Node is null)
            {
                return; // already admitted or closed
            }

            _waiters.Remove(waiter.Node);
            waiter.Node = null;
            _waitingEvents -= waiter.Events.Length;

            // A large request leaving the head of the line may let smaller ones behind it in.
            AdmitWaiters();
        }

        waiter.Result.TrySetResult(EnqueueResult.Full);
    }

    private sealed class Waiter(QueuedRequest request)
    {
        public QueuedRequest Request { get; } = request;

        public TrackedEvent[] Events => Request.Events;

        public TaskCompletionSource<EnqueueResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }
    }
}
