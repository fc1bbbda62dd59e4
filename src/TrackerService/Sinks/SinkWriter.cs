using System.Diagnostics;
using System.Runtime.CompilerServices;
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
internal sealed class SinkWriter
{
    private readonly IEventSink _sink;
    private readonly TimeProvider _time;
    private readonly TrackerTelemetry _telemetry;
    private readonly ResiliencePipeline _pipeline;

    public SinkWriter(IEventSink sink, ResiliencePipelineProvider<string> pipelines, TimeProvider time, TrackerTelemetry telemetry,
        CircuitBreakerStateProvider? circuit = null)
    {
        _sink = sink;
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

    /// <summary>Writes the batch, retrying until it is confirmed or <paramref name="cancellationToken"/> fires.</summary>
    /// <param name="span">The batch's span (<see cref="TrackerTelemetry.StartBatch"/>): gets the sink, the attempt count and what was stored.</param>
    /// <returns>The number of events newly stored (the rest were already there).</returns>
    public async Task<int> WriteAsync(IReadOnlyList<TrackedEvent> batch, Activity? span, CancellationToken cancellationToken)
    {
        span?.SetTag(TrackerTelemetry.TagSink, _sink.Name);
        var attempts = new StrongBox<int>();
        var started = _time.GetTimestamp();
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
            _telemetry.Stored(stored);
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
}
