using Polly;
using Polly.Registry;
using TrackerService.Api;
using TrackerService.Telemetry;

namespace TrackerService.Sinks;

/// <summary>
/// The one way batches reach the store: the sink behind the named resilience pipeline, with the
/// write's duration and outcome recorded. Used by the consumers and by spill replay alike.
/// </summary>
internal sealed class ResilientEventSink(IEventSink sink, ResiliencePipelineProvider<string> pipelines, TimeProvider time, TrackerTelemetry telemetry)
{
    private readonly ResiliencePipeline _pipeline = pipelines.GetPipeline(SinkResilience.PipelineName);

    public Task InitializeAsync(CancellationToken cancellationToken) => sink.InitializeAsync(cancellationToken);

    /// <summary>Whether the store gave up on a batch for now (retries exhausted, circuit open), as opposed to being broken.</summary>
    public bool IsUnavailable(Exception exception) => SinkResilience.IsUnavailable(exception, sink.IsTransient);

    /// <summary>Writes the batch, retrying until it is confirmed or <paramref name="cancellationToken"/> fires.</summary>
    /// <returns>The number of events newly stored (the rest were already there).</returns>
    public async Task<int> WriteAsync(IReadOnlyList<TrackedEvent> batch, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var stored = await _pipeline.ExecuteAsync(
            static (state, token) => new ValueTask<int>(state.sink.WriteAsync(state.batch, token)),
            (sink, batch),
            cancellationToken).ConfigureAwait(false);
        telemetry.Stored(stored);
        telemetry.BatchWritten(time.GetElapsedTime(started));
        return stored;
    }
}
