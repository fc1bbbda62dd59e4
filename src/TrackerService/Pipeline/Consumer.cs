using System.Diagnostics;
using TrackerService.Events;
using TrackerService.Sinks;
using TrackerService.Spill;
using TrackerService.Telemetry;

namespace TrackerService.Pipeline;

/// <summary>
/// One consumer loop: fill a batch off the queue, write it to the store (or, when the store is unavailable, to the
/// spill), and when it is stopped, hand back what it holds. <see cref="DeliveryService"/> starts N of them.
/// </summary>
/// <remarks>
/// What a consumer holds (<see cref="Held"/>: its batch and the rest of a request not yet batched) is visible to
/// the drain, so a consumer stuck in the sink at the deadline can't hide events.
/// </remarks>
internal sealed partial class Consumer(
    int id,
    EventBatcher batcher,
    int batchSize,
    SinkWriter sink,
    SpillStore spill,
    TimeProvider time,
    TrackerTelemetry telemetry,
    ILogger logger)
{
    /// <summary>How long a consumer holding a batch waits, when both the store and the spill refuse it, before trying again.</summary>
    private static readonly TimeSpan SpillFullPause = TimeSpan.FromSeconds(1);

    private readonly DeliveryBatch _batch = new(batchSize);
    private long _delivered;
    private long _spilled;
    private int _inFlight;

    /// <summary>Tells the owner that the loop has ended: cut short by the deadline (no exception) or failed.</summary>
    public delegate void StoppedHandler(Consumer consumer, Exception? failure);

    public int Id => id;

    /// <summary>The loop; completes when the queue is drained, the deadline cuts it or it fails.</summary>
    public Task Run { get; private set; } = Task.CompletedTask;

    /// <summary>Events this consumer has stored (newly or as duplicates the store already had).</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Events this consumer wrote to the spill because the store was unavailable.</summary>
    public long Spilled => Interlocked.Read(ref _spilled);

    /// <summary>Events in the batch being written, not yet confirmed by the store.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>A copy of what the consumer holds and the store has not confirmed: its batch, then what it took off the queue but has not batched.</summary>
    public List<TrackedEvent> Held => [.. _batch.Events, .. batcher.Pending];

    /// <summary>Forgets what it holds: the owner has taken it (<see cref="Held"/>) for the spill.</summary>
    public void Release() => _batch.Clear();

    /// <param name="parent">The span batches go under: the shutdown's during the drain, none before.</param>
    /// <param name="stopped">Called once if the loop ends other than by draining the queue.</param>
    /// <param name="abort">The deadline: cancels the sink call in progress.</param>
    public void Start(Func<ActivityContext> parent, StoppedHandler stopped, CancellationToken abort) =>
        Run = Task.Run(() => ConsumeAsync(parent, stopped, abort), CancellationToken.None);

    private async Task ConsumeAsync(Func<ActivityContext> parent, StoppedHandler stopped, CancellationToken abort)
    {
        try
        {
            while (await batcher.FillAsync(_batch, abort).ConfigureAwait(false))
            {
                Interlocked.Add(ref _inFlight, _batch.Count);
                using var span = TrackerTelemetry.StartBatch(_batch.Count, _batch.Requests, _batch.Links, parent());
                try
                {
                    TrackerTelemetry.SetOutcome(span, await DeliverOrSpillAsync(_batch.Events, span, abort).ConfigureAwait(false));
                }
                catch (OperationCanceledException) when (abort.IsCancellationRequested)
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
                    Interlocked.Add(ref _inFlight, -_batch.Count);
                }

                batcher.Release(_batch); // its memory is no longer held: the queue may take as much again
                _batch.Clear(); // not before the counts: a batch in hand is either confirmed or handed back
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // The drain ended: what this consumer held goes to the spill.
            stopped(this, null);
        }
        catch (Exception ex)
        {
            // A consumer that dies would leave events unread: the owner keeps what it held and stops the host.
            stopped(this, ex);
        }
    }

    /// <summary>
    /// Writes the batch to the store; when the store is unavailable (retries exhausted, circuit open) writes it
    /// to the spill for replay instead. When the spill is full too, or the disk refuses the write (no space left,
    /// read-only, an I/O error), keeps the batch and tries again after a
    /// pause: this consumer stops reading, the queue fills, and clients get 503 rather than the disk filling up.
    /// </summary>
    /// <returns>The batch's outcome: <see cref="TrackerTelemetry.OutcomeStored"/> or <see cref="TrackerTelemetry.OutcomeSpilled"/>.</returns>
    private async Task<string> DeliverOrSpillAsync(List<TrackedEvent> batch, Activity? span, CancellationToken abort)
    {
        while (true)
        {
            try
            {
                await sink.WriteAsync(batch, span, abort).ConfigureAwait(false);
                Interlocked.Add(ref _delivered, batch.Count);
                return TrackerTelemetry.OutcomeStored;
            }
            catch (Exception ex) when (!abort.IsCancellationRequested && sink.IsUnavailable(ex))
            {
                if (await spill.TryWriteAsync(batch, abort).ConfigureAwait(false))
                {
                    telemetry.Spilled(TrackedEvent.CountAccepted(batch, batch.Count));
                    Interlocked.Add(ref _spilled, batch.Count);
                    LogSpilled(logger, id, batch.Count, ex.Message);
                    return TrackerTelemetry.OutcomeSpilled;
                }

                LogSpillFull(logger, id, batch.Count);
                await Task.Delay(SpillFullPause, time, abort).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(EventId = 210, Level = LogLevel.Warning, Message = "The store is unavailable ({Reason}); consumer {Consumer} spilled a batch of {Events} events for replay")]
    private static partial void LogSpilled(ILogger logger, int consumer, int events, string reason);

    [LoggerMessage(EventId = 211, Level = LogLevel.Warning, Message = "The store is unavailable and the spill is full or can't be written; consumer {Consumer} holds a batch of {Events} events (clients get 503 when the queue fills)")]
    private static partial void LogSpillFull(ILogger logger, int consumer, int events);
}
