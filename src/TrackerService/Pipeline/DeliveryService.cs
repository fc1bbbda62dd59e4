using System.Diagnostics;
using Microsoft.Extensions.Options;
using TrackerService.Events;
using TrackerService.Lifecycle;
using TrackerService.Sinks;
using TrackerService.Spill;
using TrackerService.Telemetry;

namespace TrackerService.Pipeline;

/// <summary>
/// The consumers: a fixed number of long-lived loops that batch events off the queue and write them to
/// the store. Started and awaited by the host, so nothing outlives shutdown.
/// </summary>
/// <remarks>
/// A plain <see cref="IHostedService"/>, not a <c>BackgroundService</c>: in .NET 10 a background service's
/// <c>ExecuteAsync</c> may never run if stopping begins first, and the final drain must happen whatever the
/// timing. The drain is <see cref="DrainAsync"/>, driven by the shutdown coordinator once intake is closed;
/// <see cref="StopAsync"/> runs it too, in case nothing else did.
/// </remarks>
internal sealed partial class DeliveryService(
    EventQueue queue,
    SinkWriter sink,
    SpillStore spill,
    IOptions<DeliveryOptions> options,
    ComponentFailure failure,
    TimeProvider time,
    TrackerTelemetry telemetry,
    ILogger<DeliveryService> logger) : IHostedService, IDisposable
{
    /// <summary>How long, after the deadline, consumers get to return from cancelled sink calls before their batches are spilled without them.</summary>
    internal static readonly TimeSpan AbandonGrace = TimeSpan.FromMilliseconds(300);

    /// <summary>How long a consumer holding a batch waits, when both the store and the spill refuse it, before trying again.</summary>
    private static readonly TimeSpan SpillFullPause = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _abort = new();
    private readonly Lock _lock = new();
    private readonly List<TrackedEvent> _unconfirmed = [];
    private Consumer[] _consumers = [];
    private bool _spillTaken;
    private Task<DrainResult>? _drain;
    private ActivityContext _drainSpan;
    private bool _draining;
    private long _delivered;
    private long _spilledByConsumers;
    private int _inFlight;

    /// <summary>Whether the final drain has begun: batches written from now on are part of the shutdown's trace.</summary>
    public bool IsDraining
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
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Events the consumers have stored since start (newly or as duplicates the store already had).</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await sink.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var o = options.Value;
        _consumers = [.. Enumerable.Range(0, o.Consumers).Select(id => new Consumer(new EventBatcher(queue, o.BatchSize, o.FlushInterval, time), o.BatchSize))];
        for (var id = 0; id < _consumers.Length; id++)
        {
            var consumer = _consumers[id];
            var consumerId = id;
            consumer.Run = Task.Run(() => ConsumeAsync(consumerId, consumer), CancellationToken.None);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        queue.CompleteWriter(); // normally done already, by the ingress side, once the server stopped
        return DrainAsync(cancellationToken);
    }

    /// <summary>
    /// Waits for the consumers to deliver everything queued (the queue's writer must be completed). When
    /// <paramref name="deadline"/> fires first, cuts the sink calls short and writes everything still queued
    /// or unconfirmed to the spill. Runs once; later calls get the same result.
    /// </summary>
    public Task<DrainResult> DrainAsync(CancellationToken deadline)
    {
        lock (_lock)
        {
            return _drain ??= RunDrainAsync(deadline);
        }
    }

    public void Dispose() => _abort.Dispose();

    private async Task<DrainResult> RunDrainAsync(CancellationToken deadline)
    {
        // Batches written from now on belong to the drain: their spans go inside the caller's (the shutdown's) trace.
        lock (_lock)
        {
            _drainSpan = Activity.Current?.Context ?? default;
            _draining = true;
        }

        var spilledBefore = Interlocked.Read(ref _spilledByConsumers);
        var consumers = Task.WhenAll(_consumers.Select(c => c.Run));
        var deadlineReached = false;
        try
        {
            await consumers.WaitAsync(deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // Stop waiting: cancel the sink calls; each consumer hands back what it held, unconfirmed. A call
            // that ignores cancellation (a driver waiting on a frozen server) gets a moment, no more.
            deadlineReached = true;
            await _abort.CancelAsync().ConfigureAwait(false);
            await consumers.WaitAsync(AbandonGrace, time, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
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
                left.AddRange(stuck.Batch.Events);
                left.AddRange(stuck.Batcher.Pending);
            }
        }

        while (queue.TryRead(out var request))
        {
            left.AddRange(request.Events);
        }

        await spill.WriteAsync(left, CancellationToken.None).ConfigureAwait(false);
        telemetry.Spilled(left.Count);
        var spilledByConsumers = (int)(Interlocked.Read(ref _spilledByConsumers) - spilledBefore);
        return new DrainResult(left.Count + spilledByConsumers, deadlineReached);
    }

    private async Task ConsumeAsync(int id, Consumer consumer)
    {
        var batch = consumer.Batch;
        try
        {
            while (await consumer.Batcher.FillAsync(batch, _abort.Token).ConfigureAwait(false))
            {
                Interlocked.Add(ref _inFlight, batch.Count);
                ActivityContext parent;
                lock (_lock)
                {
                    parent = _drainSpan;
                }

                using var span = TrackerTelemetry.StartBatch(batch.Count, batch.Requests, batch.Links, parent);
                try
                {
                    TrackerTelemetry.SetOutcome(span, await DeliverOrSpillAsync(batch.Events, span).ConfigureAwait(false));
                }
                catch (OperationCanceledException) when (_abort.IsCancellationRequested)
                {
                    TrackerTelemetry.SetOutcome(span, TrackerTelemetry.OutcomeCancelled);
                    throw;
                }
                catch (Exception ex)
                {
                    TrackerTelemetry.SetOutcome(span, TrackerTelemetry.OutcomeFailed, ex);
                    throw;
                }
                finally
                {
                    Interlocked.Add(ref _inFlight, -batch.Count);
                }

                batch.Clear(); // not before the counts: a batch in hand is either confirmed or handed back
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // The shutdown deadline: hand back what this consumer held, for the spill.
            HandBack(consumer);
        }
        catch (Exception ex)
        {
            // A consumer that dies would leave events unread: keep what it held and stop the whole host
            // through the same drain-and-spill path, with a failure exit code so the orchestrator restarts it.
            HandBack(consumer);
            failure.Fail($"Consumer {id}", ex);
        }
    }

    /// <summary>
    /// Writes the batch to the store; when the store is unavailable (retries exhausted, circuit open) writes it
    /// to the spill for replay instead. When the spill is full too, keeps the batch and tries again after a
    /// pause: this consumer stops reading, the queue fills, and clients get 503 rather than the disk filling up.
    /// </summary>
    /// <returns>The batch's outcome: <see cref="TrackerTelemetry.OutcomeStored"/> or <see cref="TrackerTelemetry.OutcomeSpilled"/>.</returns>
    private async Task<string> DeliverOrSpillAsync(List<TrackedEvent> batch, Activity? span)
    {
        while (true)
        {
            try
            {
                await sink.WriteAsync(batch, span, _abort.Token).ConfigureAwait(false);
                Interlocked.Add(ref _delivered, batch.Count);
                return TrackerTelemetry.OutcomeStored;
            }
            catch (Exception ex) when (!_abort.IsCancellationRequested && sink.IsUnavailable(ex))
            {
                if (await spill.TryWriteAsync(batch, _abort.Token).ConfigureAwait(false))
                {
                    telemetry.Spilled(batch.Count);
                    Interlocked.Add(ref _spilledByConsumers, batch.Count);
                    LogSpilled(logger, batch.Count, ex.Message);
                    return TrackerTelemetry.OutcomeSpilled;
                }

                LogSpillFull(logger, batch.Count);
                await Task.Delay(SpillFullPause, time, _abort.Token).ConfigureAwait(false);
            }
        }
    }

    private void HandBack(Consumer consumer)
    {
        lock (_lock)
        {
            if (!_spillTaken)
            {
                _unconfirmed.AddRange(consumer.Batch.Events);
                _unconfirmed.AddRange(consumer.Batcher.Pending);
            }

            consumer.Batch.Clear();
        }
    }

    [LoggerMessage(EventId = 210, Level = LogLevel.Warning, Message = "The store is unavailable ({Reason}); spilled a batch of {Events} events for replay")]
    private static partial void LogSpilled(ILogger logger, int events, string reason);

    [LoggerMessage(EventId = 211, Level = LogLevel.Warning, Message = "The store is unavailable and the spill is full; holding a batch of {Events} events (clients get 503 when the queue fills)")]
    private static partial void LogSpillFull(ILogger logger, int events);

    /// <summary>One consumer's state, visible to the drain so that a consumer stuck in the sink can't hide events.</summary>
    private sealed class Consumer(EventBatcher batcher, int batchSize)
    {
        public EventBatcher Batcher { get; } = batcher;

        public DeliveryBatch Batch { get; } = new(batchSize);

        public Task Run { get; set; } = Task.CompletedTask;
    }
}
