using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using TrackerService.Events;
using TrackerService.Telemetry;

namespace TrackerService.Sinks;

/// <summary>
/// The one way batches reach the store: the sink behind the named resilience pipeline, with the
/// write's duration and outcome recorded. Used by the consumers and by spill replay alike.
/// </summary>
/// <remarks>
/// A batch the store refuses for its data (<see cref="IEventSink.IsRefused"/>) is split in halves until the events
/// it refuses are found: those go to the dead-letter table, the rest are stored. One poison event in a batch of
/// n costs about 2·log2(n) more writes; a batch that is all poison, 2n. Neither crashes nor blocks replay.
/// </remarks>
internal sealed partial class SinkWriter
{
    private readonly IEventSink _sink;
    private readonly TimeProvider _time;
    private readonly TrackerTelemetry _telemetry;
    private readonly ResiliencePipeline _pipeline;
    private readonly ILogger _logger;

    public SinkWriter(IEventSink sink, ResiliencePipelineProvider<string> pipelines, TimeProvider time, TrackerTelemetry telemetry,
        CircuitBreakerStateProvider? circuit = null, ILogger<SinkWriter>? logger = null)
    {
        _sink = sink;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = time;
        _telemetry = telemetry;
        _pipeline = pipelines.GetPipeline(SinkResilience.PipelineName);
        if (circuit is not null)
        {
            telemetry.ObserveCircuit(() => circuit.CircuitState switch
            {
                CircuitState.Closed => 0,
                CircuitState.HalfOpen => 1,
                _ => 2,
            });
        }
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => _sink.InitializeAsync(cancellationToken);

    /// <summary>Whether the store gave up on a batch for now (retries exhausted, circuit open), as opposed to being broken.</summary>
    public bool IsUnavailable(Exception exception) => SinkResilience.IsUnavailable(exception, _sink.IsTransient);

    /// <summary>
    /// Writes the batch, retrying until it is confirmed or <paramref name="cancellationToken"/> fires; what the store
    /// refuses for its data is found by splitting the batch and kept in the dead-letter table.
    /// </summary>
    /// <param name="span">The batch's span (<see cref="TrackerTelemetry.StartBatch"/>): gets the sink, the attempt count, what was stored and refused.</param>
    /// <returns>The number of events newly stored (the rest were already there, or refused).</returns>
    public async Task<int> WriteAsync(IReadOnlyList<TrackedEvent> batch, Activity? span, CancellationToken cancellationToken)
    {
        span?.SetTag(TrackerTelemetry.TagSink, _sink.Name);
        var attempts = new StrongBox<int>();
        var started = _time.GetTimestamp();
        try
        {
            var (events, rejected) = SplitRejections(batch);
            var refused = new List<RejectedEvent>();
            var stored = events.Count == 0 ? 0 : await WriteOrSplitAsync(events, attempts, refused, cancellationToken).ConfigureAwait(false);
            if (refused.Count > 0 || rejected.Count > 0)
            {
                // Kept before the batch counts as written: should this fail, the caller keeps the whole batch (the
                // spill), and the stored part is skipped next time by its messageId.
                await RejectAsync([.. rejected, .. refused], cancellationToken).ConfigureAwait(false);
            }

            if (refused.Count > 0)
            {
                _telemetry.Rejected(refused.Count, TrackerTelemetry.ReasonStoreRefused);
                span?.SetTag(TrackerTelemetry.TagBatchRefused, refused.Count);
                foreach (var r in refused)
                {
                    LogRefused(_logger, r.MessageId, _sink.Name, r.Reason);
                }
            }

            _telemetry.BatchWritten(_time.GetElapsedTime(started));
            span?.SetTag(TrackerTelemetry.TagBatchStored, stored);
            return stored;
        }
        finally
        {
            span?.SetTag(TrackerTelemetry.TagBatchAttempts, attempts.Value);
        }
    }

    /// <summary>
    /// One write through the pipeline; when the store refuses it for its data, the two halves written the same way,
    /// down to single events, each of which the store refuses then added to <paramref name="refused"/>.
    /// </summary>
    private async Task<int> WriteOrSplitAsync(IReadOnlyList<TrackedEvent> batch, StrongBox<int> attempts, List<RejectedEvent> refused,
        CancellationToken cancellationToken)
    {
        try
        {
            var stored = await _pipeline.ExecuteAsync(
                // Polly's timeout is cooperative: a driver that ignores the token (Npgsql opening a connection to a
                // frozen server waits out its own connect timeout) would stretch every attempt. WaitAsync ends the
                // attempt when the token fires; an abandoned write that commits later is harmless (unique messageId).
                static (state, token) =>
                {
                    state.attempts.Value++;
                    return new ValueTask<int>(state.sink.WriteAsync(state.batch, token).WaitAsync(token));
                },
                (sink: _sink, batch, attempts),
                cancellationToken).ConfigureAwait(false);

            // Counted per write: when an outage ends a split half-way, the halves already stored were stored.
            _telemetry.Stored(stored);
            _telemetry.Duplicates(batch.Count - stored);
            return stored;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && _sink.IsRefused(ex))
        {
            if (batch.Count == 1)
            {
                var e = batch[0];
                refused.Add(new RejectedEvent(e.MessageId, EventLine.ToJson(e), ex.Message, e.ReceivedAt, Source: e.Source));
                return 0;
            }

            // Halves of one array: the batch is copied once, at the first split, not at every level.
            var events = batch as ArraySegment<TrackedEvent>? ?? new ArraySegment<TrackedEvent>([.. batch]);
            var half = events.Count / 2;
            var stored = await WriteOrSplitAsync(events[..half], attempts, refused, cancellationToken).ConfigureAwait(false);
            return stored + await WriteOrSplitAsync(events[half..], attempts, refused, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The batch's events, and the dead-letter rows of those the intake refused (<see cref="TrackedEvent.Rejection"/>:
    /// counted there, and carried here through the queue or the spill like the rest).
    /// </summary>
    private static (IReadOnlyList<TrackedEvent> Events, List<RejectedEvent> Rejected) SplitRejections(IReadOnlyList<TrackedEvent> batch)
    {
        var rejected = new List<RejectedEvent>();
        List<TrackedEvent>? events = null;
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            if (e.Rejection is { } r)
            {
                events ??= [.. batch.Take(i)]; // copied only for a batch that holds rejections
                rejected.Add(RejectedEvent.FromStandIn(e, r));
            }
            else
            {
                events?.Add(e);
            }
        }

        return (events ?? batch, rejected);
    }

    /// <summary>
    /// Keeps events that will never be stored as events in the store's dead-letter table, through the same
    /// resilience pipeline (a store that is down is retried, then the caller keeps them for later).
    /// </summary>
    /// <returns>The number newly kept (the rest were rejected before).</returns>
    public async Task<int> RejectAsync(IReadOnlyList<RejectedEvent> rejected, CancellationToken cancellationToken)
    {
        if (rejected.Count == 0)
        {
            return 0;
        }

        return await _pipeline.ExecuteAsync(
            static (state, token) => new ValueTask<int>(state.sink.RejectAsync(state.rejected, token).WaitAsync(token)),
            (sink: _sink, rejected),
            cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 320, Level = LogLevel.Warning, Message = "The store ({Sink}) refused event {MessageId}: {Reason}; it is kept in rejected_events, and the rest of its batch was stored")]
    private static partial void LogRefused(ILogger logger, string? messageId, string sink, string reason);
}
