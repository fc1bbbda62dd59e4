using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using TrackerService.Events;
using TrackerService.Telemetry;

namespace TrackerService.Pipeline;

/// <summary>
/// The bounded queue between the API and the consumers, bounded twice: in events (<see cref="Capacity"/>) and in
/// bytes of memory (<see cref="MaxBytes"/>), so that large events are bounded by their size and not only by their
/// number. A request's events go in all or none: a channel alone can't reserve room for several items at once, so a
/// small gate counts the room and the channel carries each request's events as one item.
/// </summary>
/// <remarks>
/// The byte bound counts what consumers have taken and not yet given back (<see cref="Release"/>: stored or
/// spilled) as well as what is queued: a consumer holds a batch of up to a thousand events, which take memory until
/// the store confirms them. Requests that find no room wait in arrival order (a large request is not starved by
/// small ones) for at most <see cref="QueueOptions.EnqueueTimeout"/>, up to <see cref="QueueOptions.MaxWaitingEvents"/>
/// and <see cref="QueueOptions.MaxWaitingBytes"/> of them. Room is granted and the item written under one lock, so a
/// request is either queued or refused, and <see cref="CompleteWriter"/> can never strand a request that was told it
/// was accepted.
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
    private readonly long _maxWaitingBytes;
    private int _count;
    private int _taken;
    private long _bytes;
    private int _waitingEvents;
    private long _waitingBytes;
    private (int Events, long Bytes)? _refused;
    private bool _closed;

    public EventQueue(IOptions<QueueOptions> options, TimeProvider time, TrackerTelemetry? telemetry = null)
    {
        var o = options.Value;
        Capacity = o.Capacity;
        MaxBytes = o.MaxBytes;
        _enqueueTimeout = o.EnqueueTimeout;
        _maxWaitingEvents = o.MaxWaitingEvents;
        _maxWaitingBytes = o.MaxWaitingBytes;
        _time = time;
        telemetry?.ObserveQueue(() => Count, Capacity);
        telemetry?.ObserveQueueMemory(() => Pending.Bytes, MaxBytes);
    }

    /// <summary>Most events the queue holds.</summary>
    public int Capacity { get; }

    /// <summary>Most bytes of memory (<see cref="TrackedEvent.MemoryBytes"/>) the queued events and those taken and not released hold together.</summary>
    public long MaxBytes { get; }

    /// <summary>Events queued and not yet taken by a consumer.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>What is left to deliver: the events queued, and those taken by consumers and not yet released, with their bytes.</summary>
    public PendingEvents Pending
    {
        get
        {
            lock (_lock)
            {
                return new PendingEvents(_count + _taken, _bytes);
            }
        }
    }

    /// <summary>
    /// Whether the queue is turning requests away: it refused one (full, by events or by bytes) and has had no room
    /// for a request of that size since. Readiness reads it: a load balancer should send such a request elsewhere.
    /// </summary>
    public bool IsRefusing
    {
        get
        {
            lock (_lock)
            {
                return _refused is not null;
            }
        }
    }

    /// <summary>Completes when the writer is completed and every item has been read.</summary>
    public Task Completion => _channel.Reader.Completion;

    /// <summary>Whether intake is closed: nothing more is queued.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_lock)
            {
                return _closed;
            }
        }
    }

    /// <summary>
    /// Queues all of <paramref name="events"/>, or none of them, with the current span (the request's) as their origin.
    /// </summary>
    /// <param name="receipt">Told as the events are delivered (<see cref="QueuedRequest.Receipt"/>).</param>
    public async ValueTask<EnqueueResult> EnqueueAsync(TrackedEvent[] events, CancellationToken cancellationToken, DeliveryReceipt? receipt = null)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(events.Length, Capacity);
        var request = new QueuedRequest(events, Activity.Current?.Context ?? default, receipt);
        var bytes = SizeOf(events);
        Waiter waiter;
        lock (_lock)
        {
            if (_closed)
            {
                return EnqueueResult.Closed;
            }

            if (_waiters.Count == 0 && HasRoomFor(events.Length, bytes))
            {
                Admit(request, bytes);
                return EnqueueResult.Accepted;
            }

            // Waiting requests hold their parsed events too: beyond MaxWaitingEvents or MaxWaitingBytes of them,
            // refuse at once, so memory stays bounded however many clients pile up. The first waiter is always let
            // in, so a request of any allowed size can wait.
            if (_waiters.Count > 0
                && (_waitingEvents + events.Length > _maxWaitingEvents || _waitingBytes + bytes > _maxWaitingBytes))
            {
                NoteRefused(events.Length, bytes);
                return EnqueueResult.Full;
            }

            waiter = new Waiter(request, bytes);
            waiter.Node = _waiters.AddLast(waiter);
            _waitingEvents += events.Length;
            _waitingBytes += waiter.Bytes;
        }

        EnqueueResult result;
        using var timeout = new CancellationTokenSource(_enqueueTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        using (linked.Token.UnsafeRegister(static (state, _) => { var (queue, w) = ((EventQueue, Waiter))state!; queue.GiveUp(w); }, (this, waiter)))
        {
            result = await waiter.Result.Task.ConfigureAwait(false);
        }

        if (result == EnqueueResult.Full && !cancellationToken.IsCancellationRequested)
        {
            lock (_lock)
            {
                NoteRefused(events.Length, bytes); // timed out: the queue had no room for it all along
            }
        }

        return result;
    }

    /// <summary>Waits until an item can be read; false once the writer is completed and the queue is empty.</summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) =>
        _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>
    /// Takes one request's events off the queue, making room (by events) for waiting requests. Their bytes stay
    /// counted until the taker gives them back with <see cref="Release"/>.
    /// </summary>
    public bool TryRead(out QueuedRequest request)
    {
        if (!_channel.Reader.TryRead(out request))
        {
            return false;
        }

        lock (_lock)
        {
            _count -= request.Events.Length;
            _taken += request.Events.Length;
            AdmitWaiters();
        }

        return true;
    }

    /// <summary>Gives back the room of taken events that are now stored or spilled: they no longer take memory here.</summary>
    public void Release(int events, long bytes)
    {
        lock (_lock)
        {
            _taken -= events;
            _bytes -= bytes;
            AdmitWaiters();
        }
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
            _waitingBytes = 0;
            _channel.Writer.TryComplete();
        }
    }

    /// <summary>What the events take in memory, as the byte bound counts it.</summary>
    public static long SizeOf(ReadOnlySpan<TrackedEvent> events)
    {
        long bytes = 0;
        foreach (var e in events)
        {
            bytes += e.MemoryBytes;
        }

        return bytes;
    }

    /// <summary>
    /// Room by events and by bytes. A request larger than the whole byte bound still goes in when nothing is queued or
    /// held: it fits the API's limits, so refusing it would make it fail for ever. Call under the lock.
    /// </summary>
    private bool HasRoomFor(int events, long bytes) =>
        _count + events <= Capacity && (_bytes + bytes <= MaxBytes || _bytes == 0);

    private void Admit(QueuedRequest request, long bytes)
    {
        _count += request.Events.Length;
        _bytes += bytes;

        // An unbounded channel that is not completed always takes the item; _closed is checked under the same lock.
        _channel.Writer.TryWrite(request);
    }

    /// <summary>
    /// Admits waiting requests in arrival order while the first of them fits, then clears the refusal once a request
    /// of the refused size would go straight in. Call under the lock.
    /// </summary>
    private void AdmitWaiters()
    {
        while (_waiters.First is { } first && HasRoomFor(first.Value.Events.Length, first.Value.Bytes))
        {
            _waiters.RemoveFirst();
            first.Value.Node = null;
            _waitingEvents -= first.Value.Events.Length;
            _waitingBytes -= first.Value.Bytes;
            Admit(first.Value.Request, first.Value.Bytes);
            first.Value.Result.TrySetResult(EnqueueResult.Accepted);
        }

        if (_refused is { } refused && _waiters.Count == 0 && HasRoomFor(refused.Events, refused.Bytes))
        {
            _refused = null;
        }
    }

    /// <summary>Remembers a refusal, unless room came in the meantime (a later check would then never clear it). Call under the lock.</summary>
    private void NoteRefused(int events, long bytes)
    {
        if (!_closed && (_waiters.Count > 0 || !HasRoomFor(events, bytes)))
        {
            _refused = (events, bytes);
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
            _waitingBytes -= waiter.Bytes;

            // A large request leaving the head of the line may let smaller ones behind it in.
            AdmitWaiters();
        }

        waiter.Result.TrySetResult(EnqueueResult.Full);
    }

    private sealed class Waiter(QueuedRequest request, long bytes)
    {
        public QueuedRequest Request { get; } = request;

        public TrackedEvent[] Events => Request.Events;

        public long Bytes { get; } = bytes;

        public TaskCompletionSource<EnqueueResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }
    }
}

// Over 200 lines: admission, waiting, release and the refusal state share one lock and one set of counters; split
// across files, each part would have to reach into the others' state under that lock.
