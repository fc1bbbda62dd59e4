using Microsoft.Extensions.Options;
using Polly;
using Polly.Registry;
using TrackerService.Api;
using TrackerService.Sinks;
using TrackerService.Telemetry;

namespace TrackerService.Pipeline;

/// <summary>
/// The consumers: a fixed number of long-lived loops that batch events off the queue and write them to
/// the sink through the resilience pipeline. Started and awaited by the host, so nothing outlives shutdown.
/// </summary>
/// <remarks>
/// This is a plain <see cref="IHostedService"/>, not a <c>BackgroundService</c>: in .NET 10 a background
/// service's <c>ExecuteAsync</c> may never run if stopping begins first, and the final drain must happen
/// whatever the timing. Consumers end when the ingress side has completed the queue and they have read it
/// to the end; <see cref="StopAsync"/> waits for that, and when the host's token fires, cancels the sink calls.
/// </remarks>
internal sealed partial class DeliveryService(
    EventQueue queue,
    IEventSink sink,
    ResiliencePipelineProvider<string> pipelines,
    IOptions<DeliveryOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    TrackerTelemetry telemetry,
    ILogger<DeliveryService> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _abort = new();
    private readonly ResiliencePipeline _pipeline = pipelines.GetPipeline(SinkResilience.PipelineName);
    private Task[] _consumers = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await sink.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var o = options.Value;
        _consumers = [.. Enumerable.Range(0, o.Consumers).Select(id => Task.Run(() => ConsumeAsync(id, o)))];
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var consumers = Task.WhenAll(_consumers);
        try
        {
            await consumers.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host's deadline came first: cut the sink calls short and let the consumers account for what they hold.
            await _abort.CancelAsync().ConfigureAwait(false);
            await consumers.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public void Dispose() => _abort.Dispose();

    private async Task ConsumeAsync(int id, DeliveryOptions o)
    {
        var batcher = new EventBatcher(queue, o.BatchSize, o.FlushInterval, time);
        var batch = new List<TrackedEvent>(o.BatchSize);
        try
        {
            while (await batcher.FillAsync(batch, _abort.Token).ConfigureAwait(false))
            {
                await DeliverAsync(batch).ConfigureAwait(false);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // Aborted at the deadline: whatever this consumer still held was not stored.
            var lost = batch.Count + batcher.Pending.Length;
            telemetry.Dropped(lost);
            LogAbandoned(logger, id, lost);
        }
        catch (Exception ex)
        {
            // A consumer that dies would leave events unread: stop the whole host so the orchestrator restarts it.
            LogConsumerFailed(logger, ex, id);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    private async Task DeliverAsync(List<TrackedEvent> batch)
    {
        var started = time.GetTimestamp();
        var stored = await _pipeline.ExecuteAsync(
            static (state, token) => new ValueTask<int>(state.sink.WriteAsync(state.batch, token)),
            (sink, batch: (IReadOnlyList<TrackedEvent>)batch),
            _abort.Token).ConfigureAwait(false);
        var elapsed = time.GetElapsedTime(started);
        telemetry.Stored(stored);
        telemetry.BatchWritten(elapsed);
        LogBatchWritten(logger, batch.Count, stored, elapsed.TotalMilliseconds);
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "Wrote a batch of {BatchSize} events ({Stored} new) in {ElapsedMs} ms")]
    private static partial void LogBatchWritten(ILogger logger, int batchSize, int stored, double elapsedMs);

    [LoggerMessage(EventId = 201, Level = LogLevel.Error, Message = "Consumer {ConsumerId} stopped at the shutdown deadline holding {Events} undelivered events")]
    private static partial void LogAbandoned(ILogger logger, int consumerId, int events);

    [LoggerMessage(EventId = 202, Level = LogLevel.Critical, Message = "Consumer {ConsumerId} failed; stopping the service")]
    private static partial void LogConsumerFailed(ILogger logger, Exception exception, int consumerId);
}
