using System.Text;
using Microsoft.Extensions.Options;
using TrackerService.Events;
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
    ILogger<SpillReplayService> logger,
    IEventContract? contract = null) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private CancellationTokenRegistration _onStopping;
    private volatile bool _disposed;
    private readonly HashSet<string> _stuck = [];
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

    /// <summary>
    /// Replays one segment as a stream, a batch at a time. The segment is deleted only when every byte of it was an
    /// event now stored; otherwise (a torn, garbled or too-long line) it is moved aside after its events are stored.
    /// A segment that can't be read is moved aside and the pass goes on; a store that is down stops the pass.
    /// </summary>
    private async Task ReplaySegmentAsync(string path, CancellationToken cancellationToken)
    {
        if (_stuck.Contains(path))
        {
            return; // could not be moved aside before: a person has to look at it
        }

        using var activity = TrackerTelemetry.ActivitySource.StartActivity(TrackerTelemetry.SpanReplay);
        activity?.SetTag(TrackerTelemetry.TagSpillSegment, Path.GetFileName(path));
        var o = options.Value;
        var batch = new List<TrackedEvent>(Math.Min(o.ReplayBatchSize, 4096));
        var rejected = new List<RejectedEvent>();
        int events = 0, stored = 0, badLines = 0;
        var torn = false;
        try
        {
            await foreach (var line in SpillLines.ReadAsync(path, o.MaxLineBytes, cancellationToken).ConfigureAwait(false))
            {
                if (line.Text is { } text && text.AsSpan().Trim((byte)'\r').IsEmpty)
                {
                    continue;
                }

                if (line.Text is { } complete && SpillFormat.Read(complete) is { } e)
                {
                    // Held to the intake's rules, as a request is: what breaks them goes to the dead-letter table.
                    if (e.Rejection is null && contract?.Check(e) is { } fault)
                    {
                        rejected.Add(new RejectedEvent(e.MessageId, Encoding.UTF8.GetString(complete), fault.Reason, e.ReceivedAt, fault.Field, e.Source));
                    }
                    else
                    {
                        batch.Add(e);
                    }

                    if (batch.Count + rejected.Count >= o.ReplayBatchSize)
                    {
                        stored += await WriteAsync(batch, rejected, path, cancellationToken).ConfigureAwait(false);
                        events += batch.Count;
                        batch.Clear();
                    }
                }
                else if (line.Unterminated)
                {
                    torn = true;
                }
                else
                {
                    badLines++;
                }
            }

            stored += await WriteAsync(batch, rejected, path, cancellationToken).ConfigureAwait(false);
            events += batch.Count;
        }
        catch (SpillUnreadableException ex)
        {
            LogUnreadable(logger, ex, path);
            SetAside(path, TrackerTelemetry.SpillUnreadable, events);
            return;
        }

        activity?.SetTag(TrackerTelemetry.TagSpillEvents, events);
        if (torn)
        {
            LogTornTail(logger, path);
        }

        if (torn || badLines > 0)
        {
            telemetry.SpillLinesSkipped(badLines + (torn ? 1 : 0));
            SetAside(path, TrackerTelemetry.SpillCorrupt, events);
        }
        else
        {
            spill.Delete(path);
            LogReplayed(logger, events, stored, path);
        }
    }

    /// <summary>Stores a batch, after the lines that break the contract go to the dead-letter table (and are cleared).</summary>
    private async Task<int> WriteAsync(List<TrackedEvent> chunk, List<RejectedEvent> rejected, string path, CancellationToken cancellationToken)
    {
        if (rejected.Count > 0)
        {
            await sink.RejectAsync(rejected, cancellationToken).ConfigureAwait(false);
            telemetry.Rejected(rejected.Count, TrackerTelemetry.ReasonReplayInvalid);
            LogRejected(logger, rejected.Count, path, rejected[0].Field, rejected[0].Reason);
            rejected.Clear();
        }

        if (chunk.Count == 0)
        {
            return 0;
        }

        using var batch = TrackerTelemetry.StartBatch(chunk.Count, requests: 0, links: null);
        int stored;
        try
        {
            stored = await sink.WriteAsync(chunk, batch, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            TrackerTelemetry.SetOutcome(batch, TrackerTelemetry.OutcomeFailed, ex);
            throw;
        }

        TrackerTelemetry.SetOutcome(batch, TrackerTelemetry.OutcomeStored);
        telemetry.Replayed(chunk.Count);
        return stored;
    }

    /// <summary>Keeps a segment that can't be trusted where replay no longer looks; one that can't even be moved is skipped from now on.</summary>
    private void SetAside(string path, string reason, int events)
    {
        telemetry.SpillSegmentSetAside(reason);
        try
        {
            LogCorrupt(logger, path, reason, spill.MoveAside(path), events);
        }
        catch (Exception ex) when (SpillStore.IsDiskError(ex))
        {
            _stuck.Add(path);
            LogStuck(logger, ex, path);
        }
    }

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "Replaying {Segments} spill segments from {Folder}")]
    private static partial void LogStarting(ILogger logger, int segments, string folder);

    [LoggerMessage(EventId = 411, Level = LogLevel.Information, Message = "Replayed {Events} events ({Stored} new) from {Segment}; segment deleted")]
    private static partial void LogReplayed(ILogger logger, int events, int stored, string segment);

    [LoggerMessage(EventId = 412, Level = LogLevel.Warning, Message = "Spill segment {Segment} ends with a torn line (a write cut short); the line was skipped")]
    private static partial void LogTornTail(ILogger logger, string segment);

    [LoggerMessage(EventId = 413, Level = LogLevel.Error, Message = "Spill segment {Segment} is {Reason:l}; its {Events} readable events were replayed and the file was moved to {MovedTo} for inspection")]
    private static partial void LogCorrupt(ILogger logger, string segment, string reason, string movedTo, int events);

    [LoggerMessage(EventId = 414, Level = LogLevel.Warning, Message = "Spill replay stopped; the segments are kept and tried again later")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 417, Level = LogLevel.Warning, Message = "{Events} spilled events in {Segment} break the event contract (the first: {Field}, {Reason}); they went to the dead-letter table")]
    private static partial void LogRejected(ILogger logger, int events, string segment, string? field, string reason);

    [LoggerMessage(EventId = 415, Level = LogLevel.Error, Message = "Spill segment {Segment} could not be read; replay goes on with the next segment")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string segment);

    [LoggerMessage(EventId = 416, Level = LogLevel.Error, Message = "Spill segment {Segment} could not be moved aside; replay skips it until the service restarts")]
    private static partial void LogStuck(ILogger logger, Exception exception, string segment);
}

// Over 200 lines: the replay loop and how one segment is streamed, checked against the contract, stored (or
// dead-lettered) and then deleted or kept aside belong together; the logging methods take the rest.
