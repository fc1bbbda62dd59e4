using System.Diagnostics;
using Microsoft.Extensions.Options;
using TrackerService.Events;
using TrackerService.Lifecycle;
using TrackerService.Sinks;
using TrackerService.Spill;
using TrackerService.Telemetry;

namespace TrackerService.Pipeline;

/// <summary>
/// Starts the <see cref="Consumer"/>s (a fixed number of long-lived loops) and, at shutdown, drains them within the
/// <see cref="DrainBudget"/> it is given. Started and awaited by the host, so nothing outlives shutdown.
/// </summary>
/// <remarks>
/// A plain <see cref="IHostedService"/>, not a <c>BackgroundService</c>: in .NET 10 a background service's
/// <c>ExecuteAsync</c> may never run if stopping begins first, and the final drain must happen whatever the
/// timing. The drain is <see cref="DrainAsync"/>, driven by the shutdown coordinator once intake is closed;
/// <see cref="StopAsync"/> runs it with the host's own deadline in case nothing else did.
/// </remarks>
internal sealed partial class DeliveryService(
    EventQueue queue,
    SinkWriter sink,
    SpillStore spill,
    IOptions<DeliveryOptions> options,
    ComponentFailure failure,
    TimeProvider time,
    TrackerTelemetry telemetry,
    ILogger<DeliveryService> logger,
    DurableIntake? intake = null) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _abort = new();
    private readonly Lock _lock = new();
    private readonly List<TrackedEvent> _unconfirmed = [];
    private Consumer[] _consumers = [];
    private bool _spillTaken;
    private Task<DrainResult>? _drain;
    private ActivityContext _drainSpan;
    private bool _draining;

    /// <summary>Whether the final drain has begun: batches written from now on are part of the shutdown's trace. For tests, which wait for it.</summary>
    internal bool IsDraining
    {
        get
        {
            lock (_lock)
            {
                return _draining;
            }
        }
    }

    /// <summary>Events in batches being written and not yet confirmed by the store.</summary>
    public int InFlight => _consumers.Sum(c => c.InFlight);

    /// <summary>Events the consumers have stored since start (newly or as duplicates the store already had).</summary>
    public long Delivered => _consumers.Sum(c => c.Delivered);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await sink.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var o = options.Value;
        _consumers = [.. Enumerable.Range(0, o.Consumers).Select(id =>
            new Consumer(id, new EventBatcher(queue, o.BatchSize, o.FlushInterval, time), o.BatchSize, sink, spill, time, telemetry, logger))];
        foreach (var consumer in _consumers)
        {
            consumer.Start(DrainSpan, OnStopped, _abort.Token);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.CompleteWriter(); // normally done already, by the ingress side, once the server stopped
        using var budget = new DrainBudget(Timeout.InfiniteTimeSpan, time, logger, cancellationToken);
        await DrainAsync(budget).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for the consumers to deliver everything queued (the queue's writer must be completed). When the
    /// budget ends the drain first, cuts the sink calls short and writes everything still queued or unconfirmed to
    /// the spill. Runs once; later calls get the first call's result, whatever budget they bring.
    /// </summary>
    public Task<DrainResult> DrainAsync(DrainBudget budget)
    {
        lock (_lock)
        {
            return _drain ??= RunDrainAsync(budget);
        }
    }

    public void Dispose() => _abort.Dispose();

    private async Task<DrainResult> RunDrainAsync(DrainBudget budget)
    {
        // Batches written from now on belong to the drain: their spans go inside the caller's (the shutdown's) trace.
        lock (_lock)
        {
            _drainSpan = Activity.Current?.Context ?? default;
            _draining = true;
        }

        var spilledBefore = _consumers.Sum(c => c.Spilled);
        var consumers = Task.WhenAll(_consumers.Select(c => c.Run));
        var deadlineReached = false;
        budget.ReserveSpillTimeFor(() => queue.Pending);
        try
        {
            await consumers.WaitAsync(budget.DrainEnd).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (budget.DrainEnd.IsCancellationRequested)
        {
            // Stop waiting: cancel the sink calls; each consumer hands back what it held, unconfirmed. A call
            // that ignores cancellation (a driver waiting on a frozen server) gets a moment, no more.
            deadlineReached = true;
            await _abort.CancelAsync().ConfigureAwait(false);
            await consumers.WaitAsync(DrainBudget.AbandonGrace, time, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // Whatever is left: batches the store did not confirm (handed back, or held by a consumer still stuck
        // in the sink), and events never taken off the queue. The queue's writer is completed, so this ends.
        List<TrackedEvent> left;
        lock (_lock)
        {
            _spillTaken = true; // a stuck consumer that returns later must not hand its batch back again
            left = [.. _unconfirmed];
            _unconfirmed.Clear();
            foreach (var stuck in _consumers.Where(c => !c.Run.IsCompleted))
            {
                left.AddRange(stuck.Held);
            }
        }

        while (queue.TryRead(out var request))
        {
            left.AddRange(request.Events);
        }

        if (intake?.Log is { } log)
        {
            // Every queued event is in the write-ahead log, synced, and confirmed only once stored: what is left
            // here stays there, unconfirmed, and is delivered at the next start. Nothing to spill.
            LogLeftInLog(logger, left.Count, log.Unconfirmed, log.Bytes, log.Segments);
            Activity.Current?.SetTag(TrackerTelemetry.TagShutdownLost, 0);
            Activity.Current?.SetTag(TrackerTelemetry.TagShutdownLeftInLog, left.Count);
            Activity.Current?.SetTag(TrackerTelemetry.TagShutdownLogRecords, log.Unconfirmed);
            Activity.Current?.SetTag(TrackerTelemetry.TagShutdownLogBytes, log.Bytes);
            return new DrainResult((int)(_consumers.Sum(c => c.Spilled) - spilledBefore), deadlineReached, 0);
        }

        // Segment by segment until the deadline, retrying what the disk refuses; what it never takes is lost, said
        // exactly (the spill logs how many and why), and the process exits non-zero.
        var kept = await spill.KeepAsync(left, budget.Deadline).ConfigureAwait(false);
        telemetry.Spilled(TrackedEvent.CountAccepted(left, kept.Events)); // the spill keeps a prefix of what it is given
        var lost = left.Count - kept.Events;
        Activity.Current?.SetTag(TrackerTelemetry.TagShutdownLost, lost);
        if (lost > 0)
        {
            telemetry.SpillLost(lost);
            failure.Fail("The shutdown spill", new IOException($"{lost} of {left.Count} accepted events could not be spilled", kept.LastError));
        }

        var spilledByConsumers = (int)(_consumers.Sum(c => c.Spilled) - spilledBefore);
        return new DrainResult(kept.Events + spilledByConsumers, deadlineReached, lost);
    }

    private ActivityContext DrainSpan()
    {
        lock (_lock)
        {
            return _drainSpan;
        }
    }

    /// <summary>A consumer ended before the queue did: keep what it held for the spill; a failure stops the host.</summary>
    private void OnStopped(Consumer consumer, Exception? error)
    {
        lock (_lock)
        {
            if (!_spillTaken)
            {
                _unconfirmed.AddRange(consumer.Held);
            }

            consumer.Release();
        }

        if (error is not null)
        {
            // Through the same drain-and-spill path, with a failure exit code so the orchestrator restarts it.
            failure.Fail($"Consumer {consumer.Id}", error);
        }
    }

    [LoggerMessage(EventId = 254, Level = LogLevel.Information, Message = "{Events} events not yet stored stay in the write-ahead log for the next start: it holds {Records} unconfirmed records, {Bytes} bytes in {Segments} segments")]
    private static partial void LogLeftInLog(ILogger logger, int events, int records, long bytes, int segments);
}
