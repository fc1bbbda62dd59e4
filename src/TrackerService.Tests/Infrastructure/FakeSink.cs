using TrackerService.Events;
using TrackerService.Sinks;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// The one test store. Keyed on messageId like the real ones, it counts every write and remembers what it took;
/// set up (before use) to hold writes until <see cref="Open"/>, to fail some or all of them, and to call a failure
/// transient or not.
/// </summary>
/// <remarks>
/// A write goes: counted in <see cref="Writes"/> (and <see cref="FirstWrite"/>), then held when it is one of the
/// held writes (<see cref="HoldingWrites"/>) until the gate opens or its token fires (unless
/// <see cref="IgnoringCancellation"/>), then failed when it is one of the failing writes (<see cref="Failing"/>),
/// else refused when it holds a refused messageId (<see cref="Refusing"/>), else taken: its events stored once per
/// messageId. Writes are numbered from 1 in the order they are called.
/// </remarks>
internal sealed class FakeSink : IEventSink
{
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstWrite = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _received = [];
    private readonly Dictionary<string, TrackedEvent> _stored = [];
    private readonly List<RejectedEvent> _rejected = [];
    private int _heldWrites;
    private bool _ignoreCancellation;
    private int _failingFrom = 1;
    private int _failingTo;
    private Func<Exception> _failure = () => new InvalidOperationException("The fake sink was told to fail.");
    private Func<Exception, bool> _isTransient = _ => false;
    private HashSet<string> _refusing = [];
    private int _writes;
    private int _batches;
    private int _newlyStored;
    private int _abandoned;

    /// <summary>A store that can't be reached: every write fails at once with a transient <see cref="TimeoutException"/>.</summary>
    public static FakeSink Unreachable() =>
        new FakeSink().Failing(() => new TimeoutException("The store does not answer.")).TransientWhen(ex => ex is TimeoutException);

    /// <summary>The store's name on batch spans.</summary>
    public string Name { get; init; } = "fake";

    /// <summary>Completes when <see cref="WriteAsync"/> is called for the first time.</summary>
    public Task FirstWrite => _firstWrite.Task;

    /// <summary>Calls to <see cref="WriteAsync"/>, whatever became of them (attempts, behind a resilience pipeline).</summary>
    public int Writes => Volatile.Read(ref _writes);

    /// <summary>Writes that were taken (neither failed nor cut short).</summary>
    public int Batches => Volatile.Read(ref _batches);

    /// <summary>Held writes that ended because their token fired, not because the gate opened (never, when ignoring cancellation).</summary>
    public int Abandoned => Volatile.Read(ref _abandoned);

    /// <summary>The sum of what the taken writes returned: events stored that were not stored before.</summary>
    public int NewlyStored => Volatile.Read(ref _newlyStored);

    /// <summary>The messageIds of every event of every taken write, in the order they arrived, repeats included.</summary>
    public IReadOnlyList<string> Received
    {
        get
        {
            lock (_lock)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>What the store holds, once per messageId.</summary>
    public IReadOnlyDictionary<string, TrackedEvent> Stored
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<string, TrackedEvent>(_stored);
            }
        }
    }

    /// <summary>The first <paramref name="writes"/> writes (all by default) wait until <see cref="Open"/> or their token fires.</summary>
    public FakeSink HoldingWrites(int writes = int.MaxValue)
    {
        _heldWrites = writes;
        return this;
    }

    /// <summary>Held writes wait for <see cref="Open"/> alone, deaf to their token, as a driver stuck on a frozen server.</summary>
    public FakeSink IgnoringCancellation()
    {
        _ignoreCancellation = true;
        return this;
    }

    /// <summary>
    /// <paramref name="writes"/> writes (all by default), from the one after the first <paramref name="after"/>, fail,
    /// each with a new exception from <paramref name="failure"/>; the others are taken.
    /// </summary>
    public FakeSink Failing(Func<Exception> failure, int writes = int.MaxValue, int after = 0)
    {
        _failure = failure;
        _failingFrom = after + 1;
        _failingTo = writes == int.MaxValue ? int.MaxValue : after + writes;
        return this;
    }

    /// <summary>What <see cref="IsTransient"/> answers; by default no failure is transient.</summary>
    public FakeSink TransientWhen(Func<Exception, bool> isTransient)
    {
        _isTransient = isTransient;
        return this;
    }

    /// <summary>
    /// A write holding any of these messageIds is refused for its data, as a store refuses a number it can't hold:
    /// it throws <see cref="InvalidDataException"/> naming the first such event, which <see cref="IsRefused"/> calls refused.
    /// </summary>
    public FakeSink Refusing(params string[] messageIds)
    {
        _refusing = [.. messageIds];
        return this;
    }

    /// <summary>Stores events as if an earlier write had, without counting a write.</summary>
    public FakeSink Seed(params TrackedEvent[] events)
    {
        lock (_lock)
        {
            foreach (var e in events)
            {
                _stored.Add(e.MessageId, e);
            }
        }

        return this;
    }

    /// <summary>What went to the dead-letter table, once per messageId (as the real stores keep it), in order.</summary>
    public IReadOnlyList<RejectedEvent> Rejected
    {
        get
        {
            lock (_lock)
            {
                return [.. _rejected];
            }
        }
    }

    /// <summary>Lets the held writes, and every later one, go on.</summary>
    public void Open() => _gate.TrySetResult();

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public bool IsTransient(Exception exception) => _isTransient(exception);

    public bool IsRefused(Exception exception) => exception is InvalidDataException;

    public async Task<int> WriteAsync(IReadOnlyList<TrackedEvent> batch, CancellationToken cancellationToken)
    {
        var write = Interlocked.Increment(ref _writes);
        _firstWrite.TrySetResult();
        if (write <= _heldWrites)
        {
            try
            {
                await (_ignoreCancellation ? _gate.Task : _gate.Task.WaitAsync(cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _abandoned);
                throw;
            }
        }

        if (write >= _failingFrom && write <= _failingTo)
        {
            throw _failure();
        }

        if (batch.FirstOrDefault(e => _refusing.Contains(e.MessageId)) is { } poison)
        {
            throw new InvalidDataException($"The fake store refuses {poison.MessageId}.");
        }

        var stored = 0;
        lock (_lock)
        {
            foreach (var e in batch)
            {
                _received.Add(e.MessageId);
                stored += _stored.TryAdd(e.MessageId, e) ? 1 : 0;
            }
        }

        Interlocked.Add(ref _newlyStored, stored);
        Interlocked.Increment(ref _batches);
        return stored;
    }

    public Task<int> RejectAsync(IReadOnlyList<RejectedEvent> rejected, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var added = 0;
            foreach (var r in rejected)
            {
                if (r.MessageId is null || !_rejected.Exists(x => x.MessageId == r.MessageId))
                {
                    _rejected.Add(r);
                    added++;
                }
            }

            return Task.FromResult(added);
        }
    }
}
