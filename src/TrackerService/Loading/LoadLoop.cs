using System.Diagnostics;
using NATS.Client.JetStream;
using TrackerService.Sinks;
using TrackerService.Streaming;
using TrackerService.Telemetry;

namespace TrackerService.Loading;

/// <summary>
/// One loop of the loader, as <c>Pipeline/Consumer</c> is one of the intake: fetch a batch from the shared consumer,
/// write it to the store through the <see cref="SinkWriter"/> (retries, circuit breaker), and ack each message only once
/// the store has committed it. <see cref="StreamLoader"/> runs <c>Tracker:Delivery:Consumers</c> of them, so that one
/// loop's fetch (and the decoding on the connection's read loop) runs while another's batch is being written.
/// </summary>
/// <remarks>
/// A store that is unavailable (retries exhausted, circuit open) gets nothing acked: the batch is handed back (nak)
/// with a delay of <see cref="SinkOptions.CircuitBreakDuration"/>, the loop pauses as long, and the next write is the
/// circuit's probe. When the shutdown's drain ends, the write in progress is cancelled and its batch handed back at
/// once, for another loader to take.
/// </remarks>
internal sealed partial class LoadLoop(
    int id,
    LoaderConsumer consumer,
    JetStreamOptions options,
    SinkWriter sink,
    TimeSpan outagePause,
    TimeProvider time,
    TrackerTelemetry telemetry,
    ILogger logger)
{
    private long _loaded;
    private long _handedBack;
    private int _inHand;
    private volatile string? _streamFault;

    public int Id => id;
    /// <summary>The loop; completes when fetching has stopped (the shutdown), the drain's end cut it, or it failed.</summary>
    public Task Run { get; private set; } = Task.CompletedTask;

    /// <summary>Messages this loop wrote to the store and acked.</summary>
    public long Loaded => Interlocked.Read(ref _loaded);

    /// <summary>Messages this loop handed back to the stream (nak) because the store was unavailable or the deadline came.</summary>
    public long HandedBack => Interlocked.Read(ref _handedBack);

    /// <summary>Messages fetched and not yet acked or handed back.</summary>
    public int InHand => Volatile.Read(ref _inHand);

    /// <summary>Why the stream can't be read now (the server unreachable, no quorum); null while it can.</summary>
    public string? StreamFault => _streamFault;

    /// <param name="failed">Called once if the loop ends on a failure no retry fixes (a broken store).</param>
    /// <param name="stopFetching">The shutdown's signal: no new fetch starts (the one in progress ends by itself, within FetchExpires).</param>
    /// <param name="abort">The drain's end: cuts the fetch and the write in progress; their messages are handed back.</param>
    /// <param name="deadline">The shutdown's deadline: bounds the acks and naks still to send.</param>
    public void Start(Action<LoadLoop, Exception> failed, CancellationToken stopFetching, CancellationToken abort, CancellationToken deadline) =>
        Run = Task.Run(() => RunAsync(failed, stopFetching, abort, deadline), CancellationToken.None);

    private async Task RunAsync(Action<LoadLoop, Exception> failed, CancellationToken stopFetching, CancellationToken abort, CancellationToken deadline)
    {
        while (!stopFetching.IsCancellationRequested && !abort.IsCancellationRequested)
        {
            var batch = new LoadBatch(options.Stream, options.FetchBatch, TrackerTelemetry.ActivitySource.HasListeners());
            try
            {
                var started = time.GetTimestamp();
                await FetchAsync(batch, abort).ConfigureAwait(false);
                if (batch.Count > 0)
                {
                    await LoadAsync(batch, stopFetching, abort, deadline).ConfigureAwait(false);
                }
                else if (time.GetElapsedTime(started) < options.FetchExpires / 2)
                {
                    // A fetch that ends empty well before it expires was not answered (no responders: a leader election,
                    // a stream gone): wait a moment rather than ask again at once.
                    await PauseAsync(options.FetchExpires, stopFetching).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                await HandBackAsync(batch, TimeSpan.Zero, deadline).ConfigureAwait(false);
            }
            catch (Exception ex) when (!abort.IsCancellationRequested && IsStreamFault(ex))
            {
                await HandBackAsync(batch, TimeSpan.Zero, deadline).ConfigureAwait(false);
                if (_streamFault is null)
                {
                    LogStreamFault(logger, id, ex.Message);
                }

                _streamFault = ex.Message;
                await PauseAsync(options.FetchExpires, stopFetching).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // A store that no retry fixes (a missing table, a corrupt file): the batch goes back for another loader,
                // and the owner stops the host, exit code 1.
                await HandBackAsync(batch, TimeSpan.Zero, deadline).ConfigureAwait(false);
                failed(this, ex);
                return;
            }
        }
    }

    private async Task FetchAsync(LoadBatch batch, CancellationToken abort)
    {
        var fetch = new NatsJSFetchOpts { MaxMsgs = options.FetchBatch, Expires = options.FetchExpires };
        await foreach (var message in consumer.Consumer.FetchAsync(fetch, StreamEntry.Serializer, abort).ConfigureAwait(false))
        {
            batch.Add(message);
            Volatile.Write(ref _inHand, batch.Count);
        }

        abort.ThrowIfCancellationRequested(); // a fetch cut short ends quietly; what it got goes back
        if (_streamFault is not null)
        {
            _streamFault = null;
            LogStreamBack(logger, id);
        }
    }

    private async Task LoadAsync(LoadBatch batch, CancellationToken stopFetching, CancellationToken abort, CancellationToken deadline)
    {
        var started = time.GetTimestamp();
        using var span = TrackerTelemetry.StartBatch(batch.Count, batch.Requests, batch.Links);
        span?.SetTag(TrackerTelemetry.TagBatchRedelivered, batch.Redelivered);
        telemetry.Redelivered(batch.Redelivered);

        using var writing = CancellationTokenSource.CreateLinkedTokenSource(deadline);
        var keep = batch.KeepAsync(options.AckWait / 3, time, writing.Token);
        try
        {
            await sink.WriteAsync(batch.Events, span, abort).ConfigureAwait(false);
            if (batch.Undecodable.Count > 0)
            {
                await sink.RejectAsync(batch.Undecodable, abort).ConfigureAwait(false);
                telemetry.Undecodable(batch.Undecodable.Count);
                foreach (var row in batch.Undecodable)
                {
                    LogUndecodable(logger, row.MessageId, row.Reason);
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            TrackerTelemetry.SetOutcome(span, TrackerTelemetry.OutcomeHandedBack);
            throw; // handed back by the loop
        }
        catch (Exception ex) when (!abort.IsCancellationRequested && sink.IsUnavailable(ex))
        {
            TrackerTelemetry.SetOutcome(span, TrackerTelemetry.OutcomeHandedBack, ex);
            await HandBackAsync(batch, outagePause, deadline).ConfigureAwait(false);
            LogHandedBack(logger, id, batch.Count, ex.Message, outagePause.TotalMilliseconds);
            await PauseAsync(outagePause, stopFetching).ConfigureAwait(false);
            return;
        }
        catch (Exception ex)
        {
            TrackerTelemetry.SetOutcome(span, TrackerTelemetry.OutcomeFailed, ex);
            throw; // the loop hands the batch back and stops the host
        }
        finally
        {
            await writing.CancelAsync().ConfigureAwait(false);
            await keep.ConfigureAwait(false);
        }

        // Committed: now, and only now, the stream may forget them.
        await batch.AckAsync(deadline).ConfigureAwait(false);
        Interlocked.Add(ref _loaded, batch.Count);
        Volatile.Write(ref _inHand, 0);
        telemetry.Loaded(batch.Count, time.GetElapsedTime(started));
        TrackerTelemetry.SetOutcome(span, TrackerTelemetry.OutcomeStored);
    }

    private async Task HandBackAsync(LoadBatch batch, TimeSpan delay, CancellationToken deadline)
    {
        await batch.HandBackAsync(delay, deadline).ConfigureAwait(false);
        Interlocked.Add(ref _handedBack, batch.Count);
        Volatile.Write(ref _inHand, 0);
    }

    private async Task PauseAsync(TimeSpan pause, CancellationToken stopFetching) =>
        await Task.Delay(pause, time, stopFetching).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    /// <summary>The stream can't be read for now: the connection lost or reconnecting, no quorum, the server's own error.</summary>
    private static bool IsStreamFault(Exception ex) => ex is NATS.Client.Core.NatsException or TimeoutException or IOException;

    [LoggerMessage(EventId = 851, Level = LogLevel.Warning, Message = "Stream message {MessageId} is no event ({Reason}); it is kept in rejected_events with its payload, and acked")]
    private static partial void LogUndecodable(ILogger logger, string? messageId, string reason);

    [LoggerMessage(EventId = 852, Level = LogLevel.Warning, Message = "The store is unavailable ({Reason}); loader loop {Loop} handed a batch of {Messages} messages back to the stream, delivered again in {DelayMs} ms")]
    private static partial void LogHandedBack(ILogger logger, int loop, int messages, string reason, double delayMs);

    [LoggerMessage(EventId = 853, Level = LogLevel.Warning, Message = "Loader loop {Loop} can't read the stream ({Reason}); trying again")]
    private static partial void LogStreamFault(ILogger logger, int loop, string reason);

    [LoggerMessage(EventId = 854, Level = LogLevel.Information, Message = "Loader loop {Loop} reads the stream again")]
    private static partial void LogStreamBack(ILogger logger, int loop);
}
