using Microsoft.Extensions.Options;
using TrackerService.Sinks;
using TrackerService.Telemetry;

namespace TrackerService.Spill;

/// <summary>
/// Replays the spill into the store: at start, in the background while new traffic is taken, then again every
/// <see cref="SpillOptions.ReplayInterval"/> and as soon as the store's circuit closes. A segment is deleted
/// only after every event in it is confirmed; the store's unique messageId makes a replay that is cut short
/// and done again harmless.
/// </summary>
internal sealed partial class SpillReplayService(
    SpillStore spill,
    SinkWriter sink,
    IOptions<SpillOptions> options,
    ReplaySignal signal,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    TrackerTelemetry telemetry,
    ILogger<SpillReplayService> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private CancellationTokenRegistration _onStopping;
    private volatile bool _disposed;
    private readonly TaskCompletionSource _firstPass = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _replay = Task.CompletedTask;

    /// <summary>Completes when the replay of what was spilled before the start has finished or stopped.</summary>
    public Task Completion => _firstPass.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // A shutdown's budget belongs to the drain; what replay has not confirmed stays spilled for next time.
        _onStopping = lifetime.ApplicationStopping.Register(_stopping.Cancel);
        spill.RecoverPartialSegments();
        var segments = spill.ListSegments();
        if (segments.Count == 0)
        {
            _firstPass.TrySetResult();
        }

        _replay = Task.Run(() => RunAsync(segments, _stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_disposed)
        {
            return; // a host stopped twice (test hosts do)
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _replay.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose()
    {
        _disposed = true;
        _onStopping.Dispose();
        _stopping.Dispose();
    }

    private async Task RunAsync(IReadOnlyList<string> segments, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (segments.Count > 0)
                {
                    await ReplayAsync(segments, cancellationToken).ConfigureAwait(false);
                }

                _firstPass.TrySetResult();
                await signal.WaitAsync(options.Value.ReplayInterval, time, cancellationToken).ConfigureAwait(false);
                segments = spill.ListSegments();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping
        }
        finally
        {
            _firstPass.TrySetResult();
        }
    }

    private async Task ReplayAsync(IReadOnlyList<string> segments, CancellationToken cancellationToken)
    {
        try
        {
            LogStarting(logger, segments.Count, spill.Folder);
            foreach (var path in segments)
            {
                await ReplaySegmentAsync(path, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: what is not confirmed stays in its segment for the next start.
        }
        catch (Exception ex)
        {
            // The segments stay where they are; the next pass (or the next start) tries again.
            LogFailed(logger, ex);
        }
    }

    private async Task ReplaySegmentAsync(string path, CancellationToken cancellationToken)
    {
        using var activity = TrackerTelemetry.ActivitySource.StartActivity(TrackerTelemetry.SpanReplay);
        var segment = await SpillStore.ReadAsync(path, cancellationToken).ConfigureAwait(false);
        activity?.SetTag(TrackerTelemetry.TagSpillSegment, Path.GetFileName(path));
        activity?.SetTag(TrackerTelemetry.TagSpillEvents, segment.Events.Count);
        if (segment.TornTail)
        {
            telemetry.SpillLinesSkipped(1);
            LogTornTail(logger, path);
        }

        var stored = 0;
        foreach (var chunk in segment.Events.Chunk(options.Value.ReplayBatchSize))
        {
            using var batch = TrackerTelemetry.StartBatch(chunk.Length, requests: 0, links: null);
            try
            {
                stored += await sink.WriteAsync(chunk, batch, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                TrackerTelemetry.SetOutcome(batch, TrackerTelemetry.OutcomeFailed, ex);
                throw;
            }

            TrackerTelemetry.SetOutcome(batch, TrackerTelemetry.OutcomeStored);
            telemetry.Replayed(chunk.Length);
        }

        if (segment.Corrupt)
        {
            LogCorrupt(logger, path, spill.MoveAside(path), segment.Events.Count);
        }
        else
        {
            spill.Delete(path);
            LogReplayed(logger, segment.Events.Count, stored, path);
        }
    }

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "Replaying {Segments} spill segments from {Folder}")]
    private static partial void LogStarting(ILogger logger, int segments, string folder);

    [LoggerMessage(EventId = 411, Level = LogLevel.Information, Message = "Replayed {Events} events ({Stored} new) from {Segment}; segment deleted")]
    private static partial void LogReplayed(ILogger logger, int events, int stored, string segment);

    [LoggerMessage(EventId = 412, Level = LogLevel.Warning, Message = "Spill segment {Segment} ends with a torn line (a write cut short); the line was skipped")]
    private static partial void LogTornTail(ILogger logger, string segment);

    [LoggerMessage(EventId = 413, Level = LogLevel.Error, Message = "Spill segment {Segment} is corrupt; its {Events} readable events were replayed and the file was moved to {MovedTo} for inspection")]
    private static partial void LogCorrupt(ILogger logger, string segment, string movedTo, int events);

    [LoggerMessage(EventId = 414, Level = LogLevel.Warning, Message = "Spill replay stopped; the segments are kept and tried again later")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
