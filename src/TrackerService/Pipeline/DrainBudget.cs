namespace TrackerService.Pipeline;

/// <summary>
/// The one time budget of a shutdown, handed from phase to phase as OpenTelemetry's
/// <c>BatchExportProcessor.OnShutdown</c> hands its timeout on: the deadline, the time left, and the rule that
/// ends the drain while what is still queued or in flight can be spilled by the deadline. Every time rule of the
/// shutdown lives here; the phases only ask it.
/// </summary>
/// <remarks>
/// The spill is the one step that must finish by the deadline: the watchdog then ends the process, and the
/// orchestrator's kill follows. So the drain does not run to the deadline; it ends as soon as the time left would
/// no longer cover <see cref="SpillReserve"/> for what is left, checked every <see cref="ReserveCheckInterval"/>.
/// </remarks>
internal sealed partial class DrainBudget : IDisposable
{
    /// <summary>
    /// How long, once the drain is ended, consumers get to return from cancelled sink calls before their batches
    /// are spilled without them (a driver waiting on a frozen server may ignore cancellation).
    /// </summary>
    public static readonly TimeSpan AbandonGrace = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// The slowest spill rate planned for, in bytes of memory (<c>TrackedEvent.MemoryBytes</c>) per second. The spill
    /// writes one JSON line per event and fsyncs; measured on a 2-core machine it writes about 170 MB of events' memory a
    /// second, small events (about 500 bytes) and large ones (about 30 KB) alike, so the time it takes follows the bytes
    /// and not the number of events (docs/performance.md#the-spill-rate-in-bytes). 40 MB/s is under a quarter of that,
    /// for a slower disk, and for a line format that changes how many bytes an event's line takes.
    /// </summary>
    private const double SpillBytesPerSecondFloor = 40_000_000;

    /// <summary>
    /// The slowest spill rate planned for in events per second, the rule before bytes were counted: a quarter of the
    /// small-event rate <c>bench/run</c> measured. Each line also costs CPU to format, and with the cores busy (a
    /// parallel test run) 100,000 small events needed more than their bytes' time; the reserve is never less than this.
    /// </summary>
    private const double SpillEventsPerSecondFloor = 50_000;

    /// <summary>How often the drain checks whether the time left still covers spilling what is left.</summary>
    private static readonly TimeSpan ReserveCheckInterval = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan InfiniteTimeSpan = System.Threading.Timeout.InfiniteTimeSpan;

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long _started;
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationTokenSource _deadline;
    private readonly CancellationTokenSource _drainEnd;
    private ITimer? _reserveCheck;

    /// <param name="timeout">The whole budget, from now; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> when only <paramref name="outer"/> bounds it.</param>
    /// <param name="outer">A deadline set by someone else (the host's own stop token), or none.</param>
    public DrainBudget(TimeSpan timeout, TimeProvider time, ILogger logger, CancellationToken outer = default)
    {
        Timeout = timeout;
        _time = time;
        _logger = logger;
        _started = time.GetTimestamp();
        _timeout = new CancellationTokenSource(timeout, time);
        _deadline = CancellationTokenSource.CreateLinkedTokenSource(_timeout.Token, outer);
        _drainEnd = CancellationTokenSource.CreateLinkedTokenSource(_deadline.Token);
    }

    /// <summary>The whole budget.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Time spent since the budget began (the stop signal).</summary>
    public TimeSpan Elapsed => _time.GetElapsedTime(_started);

    /// <summary>What is left of the budget; infinite when it has no timeout of its own.</summary>
    public TimeSpan Remaining => Timeout == InfiniteTimeSpan
        ? InfiniteTimeSpan
        : TimeSpan.FromTicks(Math.Max(0, (Timeout - Elapsed).Ticks));

    /// <summary>Fires at the deadline: for phases that may run to it (the drain delay, the web server's stop).</summary>
    public CancellationToken Deadline => _deadline.Token;

    /// <summary>Fires when the drain must end: at the deadline, or earlier by the spill reserve rule.</summary>
    public CancellationToken DrainEnd => _drainEnd.Token;

    /// <summary>
    /// The time a spill of <paramref name="pending"/> is given: the consumers' grace to hand back their batches, and the
    /// events' bytes at the planned rate, or their number at its planned rate when that is slower (small events). A
    /// count alone under-reserved large events by a factor of five (issue 13).
    /// </summary>
    public static TimeSpan SpillReserve(PendingEvents pending) =>
        AbandonGrace + TimeSpan.FromSeconds(Math.Max(pending.Bytes / SpillBytesPerSecondFloor, pending.Count / SpillEventsPerSecondFloor));

    /// <summary>
    /// From now on, ends the drain (<see cref="DrainEnd"/>) as soon as the time left would no longer cover
    /// spilling the <paramref name="pending"/> events (those still queued, in flight or held by consumers). No-op
    /// without a timeout.
    /// </summary>
    public void ReserveSpillTimeFor(Func<PendingEvents> pending)
    {
        if (Timeout == InfiniteTimeSpan || _reserveCheck is not null)
        {
            return;
        }

        _reserveCheck = _time.CreateTimer(_ => CheckReserve(pending), null, TimeSpan.Zero, ReserveCheckInterval);
    }

    public void Dispose()
    {
        _reserveCheck?.Dispose();
        _drainEnd.Dispose();
        _deadline.Dispose();
        _timeout.Dispose();
    }

    private void CheckReserve(Func<PendingEvents> pending)
    {
        var events = pending();
        var left = Remaining;
        var reserve = SpillReserve(events);
        if (left > reserve)
        {
            return;
        }

        try
        {
            if (!_drainEnd.IsCancellationRequested)
            {
                LogSpillReserve(_logger, left.TotalMilliseconds, events.Count, events.Bytes, reserve.TotalMilliseconds);
                _drainEnd.Cancel();
            }
        }
        catch (ObjectDisposedException)
        {
            // The drain ended as this tick ran.
        }
    }

    [LoggerMessage(EventId = 502, Level = LogLevel.Warning, Message = "Ending the drain {LeftMs} ms before the deadline: spilling the {Events} events left ({Bytes} bytes) is given up to {ReserveMs} ms")]
    private static partial void LogSpillReserve(ILogger logger, double leftMs, int events, long bytes, double reserveMs);
}
