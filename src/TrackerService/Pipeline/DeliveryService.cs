using Microsoft.Extensions.Options;
using TrackerService.Api;
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
internal sealed class DeliveryService(
    EventQueue queue,
    ResilientEventSink sink,
    SpillStore spill,
    IOptions<DeliveryOptions> options,
    ComponentFailure failure,
    TimeProvider time,
    TrackerTelemetry telemetry) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _abort = new();
    private readonly Lock _lock = new();
    private readonly List<TrackedEvent> _unconfirmed = [];
    private Task[] _consumers = [];
    private Task<DrainResult>? _drain;
    private long _delivered;
    private int _inFlight;

    /// <summary>Events in batches being written and not yet confirmed by the store.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await sink.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var o = options.Value;
        _consumers = [.. Enumerable.Range(0, o.Consumers).Select(id => Task.Run(() => ConsumeAsync(id, o), CancellationToken.None))];
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
        var deliveredBefore = Interlocked.Read(ref _delivered);
        var consumers = Task.WhenAll(_consumers);
        var deadlineReached = false;
        try
        {
            await consumers.WaitAsync(deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // Stop waiting: cancel the sink calls; each consumer hands back what it held, unconfirmed.
            deadlineReached = true;
            await _abort.CancelAsync().ConfigureAwait(false);
            await consumers.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // Whatever is left: batches the store did not confirm, and (after the deadline or a consumer
        // failure) events never taken off the queue. The queue's writer is completed, so this ends.
        List<TrackedEvent> left;
        lock (_lock)
        {
            left = [.. _unconfirmed];
            _unconfirmed.Clear();
        }

        while (queue.TryRead(out var events))
        {
            left.AddRange(events);
        }

        await spill.WriteAsync(left, CancellationToken.None).ConfigureAwait(false);
        telemetry.Spilled(left.Count);
        return new DrainResult(Interlocked.Read(ref _delivered) - deliveredBefore, left.Count, deadlineReached);
    }

    private async Task ConsumeAsync(int id, DeliveryOptions o)
    {
        var batcher = new EventBatcher(queue, o.BatchSize, o.FlushInterval, time);
        var batch = new List<TrackedEvent>(o.BatchSize);
        try
        {
            while (await batcher.FillAsync(batch, _abort.Token).ConfigureAwait(false))
            {
                Interlocked.Add(ref _inFlight, batch.Count);
                await sink.WriteAsync(batch, _abort.Token).ConfigureAwait(false);
                Interlocked.Add(ref _delivered, batch.Count);
                Interlocked.Add(ref _inFlight, -batch.Count);
                batch.Clear(); // not before the counts: a batch in hand is either confirmed or handed back
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // The shutdown deadline: hand back what this consumer held, for the spill.
            HandBack(batch, batcher);
        }
        catch (Exception ex)
        {
            // A consumer that dies would leave events unread: keep what it held and stop the whole host
            // through the same drain-and-spill path, with a failure exit code so the orchestrator restarts it.
            HandBack(batch, batcher);
            failure.Fail($"Consumer {id}", ex);
        }
    }

    private void HandBack(List<TrackedEvent> batch, EventBatcher batcher)
    {
        lock (_lock)
        {
            _unconfirmed.AddRange(batch);
            _unconfirmed.AddRange(batcher.Pending);
        }
    }
}
