using System.Diagnostics;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using TrackerService.Lifecycle;
using TrackerService.Pipeline;
using TrackerService.Sinks;
using TrackerService.Streaming;
using TrackerService.Telemetry;

namespace TrackerService.Loading;

/// <summary>
/// The loader role (<c>Tracker:Role=Loader</c>): reads the JetStream stream through the durable pull consumer every
/// loader shares and writes it to the store, acking each message only once the store has committed it. At start it
/// readies the store, creates or checks the stream (as the intake does) and binds the consumer, failing the start in one
/// line when NATS or the store can't be used; then it runs <see cref="DeliveryOptions.Consumers"/> <see cref="LoadLoop"/>s.
/// </summary>
/// <remarks>
/// The shutdown (SIGTERM) runs in <see cref="StoppingAsync"/>, inside one <see cref="DrainBudget"/> of
/// <see cref="ShutdownOptions.Timeout"/>, as the intake's does, and as one <c>tracker.shutdown</c> span: readiness off,
/// fetching stopped, the batches in hand written and acked while the budget lasts; when it ends first, their writes are
/// cancelled and the batches handed back (nak), so another loader takes them at once rather than after AckWait. Nothing
/// is spilled: what a loader has not stored is still in the stream.
/// </remarks>
internal sealed partial class StreamLoader(
    JetStreamConnection stream,
    SinkWriter sink,
    IOptions<DeliveryOptions> delivery,
    IOptions<SinkOptions> sinkOptions,
    IOptions<ShutdownOptions> shutdown,
    ComponentFailure failure,
    TimeProvider time,
    TrackerTelemetry telemetry,
    IServiceProvider services,
    ILogger<StreamLoader> logger) : IHostedLifecycleService, IDisposable
{
    private readonly CancellationTokenSource _stopFetching = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly CancellationTokenSource _deadline = new();
    private readonly Lock _lock = new();
    private LoadLoop[] _loops = [];
    private LoaderConsumer? _consumer;
    private Task _lag = Task.CompletedTask;
    private Task? _shutdown;

    /// <summary>Whether the consumer is bound and the loops are running: the loader's readiness.</summary>
    public bool IsBound => Volatile.Read(ref _consumer) is not null;

    /// <summary>The consumer's lag as last read (-1 before it is bound).</summary>
    public (long Pending, long AckPending) Lag => _consumer is { } c ? (c.Pending, c.AckPending) : (-1, -1);

    /// <summary>Why the stream can't be read now, when a loop can't; null while every loop can.</summary>
    public string? StreamFault => _loops.Select(l => l.StreamFault).FirstOrDefault(f => f is not null);

    /// <summary>Messages written to the store and acked since start.</summary>
    public long Loaded => _loops.Sum(l => l.Loaded);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await sink.InitializeAsync(cancellationToken).ConfigureAwait(false);
        await stream.EnsureStreamAsync(cancellationToken).ConfigureAwait(false);
        var consumer = await stream.SetUpAsync(token => LoaderConsumer.BindAsync(stream, time, logger, token), cancellationToken).ConfigureAwait(false);
        var options = stream.Options;
        _loops = [.. Enumerable.Range(0, delivery.Value.Consumers).Select(id =>
            new LoadLoop(id, consumer, options, sink, sinkOptions.Value.CircuitBreakDuration, time, telemetry, logger))];
        foreach (var loop in _loops)
        {
            loop.Start(OnFailed, _stopFetching.Token, _abort.Token, _deadline.Token);
        }

        telemetry.ObserveLoaderLag(() => consumer.Pending, () => consumer.AckPending);
        _lag = consumer.WatchLagAsync(_deadline.Token);
        Volatile.Write(ref _consumer, consumer);
        var subjects = StreamMessage.StreamSubjects(options);
        LogBound(logger, options.Consumer, options.Stream, subjects, consumer.Pending, consumer.AckPending, _loops.Length, options.FetchBatch, options.AckWait);
    }

    /// <summary>Runs the loader's shutdown once (a host stopped twice gets the first run).</summary>
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _shutdown ??= ShutDownAsync();
        }
    }

    /// <summary>Normally the shutdown ran already, from <see cref="StoppingAsync"/>; waits for it.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => StoppingAsync(cancellationToken).WaitAsync(cancellationToken);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _stopFetching.Dispose();
        _abort.Dispose();
        _deadline.Dispose();
    }

    private async Task ShutDownAsync()
    {
        var timeout = shutdown.Value.Timeout;
        using var budget = new DrainBudget(timeout, time, logger);
        using var activity = TrackerTelemetry.ActivitySource.StartActivity(TrackerTelemetry.SpanShutdown, ActivityKind.Internal, parentContext: default);
        var inHand = _loops.Sum(l => l.InHand);
        var loadedAtStart = Loaded;
        var handedBackAtStart = _loops.Sum(l => l.HandedBack);
        activity?.SetTag(TrackerTelemetry.TagShutdownDeadlineMs, timeout.TotalMilliseconds);
        activity?.SetTag(TrackerTelemetry.TagShutdownQueuedAtStart, inHand);
        activity?.AddEvent(new ActivityEvent(TrackerTelemetry.EventReadinessOff));
        LogStopping(logger, inHand, timeout.TotalMilliseconds);

        await _stopFetching.CancelAsync().ConfigureAwait(false);
        activity?.AddEvent(new ActivityEvent(TrackerTelemetry.EventFetchingStopped));
        using var atDeadline = budget.Deadline.Register(_deadline.Cancel);

        // The drain ends early enough for the naks to go out by the deadline: the budget's reserve for what is left.
        budget.ReserveSpillTimeFor(() => new PendingEvents(_loops.Sum(l => l.InHand), 0));
        var loops = Task.WhenAll(_loops.Select(l => l.Run));
        var deadlineReached = false;
        try
        {
            await loops.WaitAsync(budget.DrainEnd).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (budget.DrainEnd.IsCancellationRequested)
        {
            deadlineReached = true;
            await _abort.CancelAsync().ConfigureAwait(false);
            await loops.WaitAsync(DrainBudget.AbandonGrace, time, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // The acks and naks are in the connection's buffer: one round trip, and the server has read them all.
        await FlushAsync(budget.Deadline).ConfigureAwait(false);
        activity?.AddEvent(new ActivityEvent(deadlineReached ? TrackerTelemetry.EventDeadlineReached : TrackerTelemetry.EventDrainFinished));
        await _deadline.CancelAsync().ConfigureAwait(false); // the lag watch
        await _lag.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        var loaded = Loaded - loadedAtStart;
        var handedBack = _loops.Sum(l => l.HandedBack) - handedBackAtStart;
        var outcome = deadlineReached ? TrackerTelemetry.ShutdownDeadlineReached : TrackerTelemetry.ShutdownDrained;
        activity?.SetTag(TrackerTelemetry.TagShutdownDrained, loaded);
        activity?.SetTag(TrackerTelemetry.TagShutdownHandedBack, handedBack);
        activity?.SetTag(TrackerTelemetry.TagShutdownElapsedMs, budget.Elapsed.TotalMilliseconds);
        activity?.SetTag(TrackerTelemetry.TagShutdownOutcome, outcome);
        activity?.SetStatus(ActivityStatusCode.Ok);
        LogStopped(logger, deadlineReached ? "deadline reached" : "drained", inHand, loaded, handedBack, budget.Elapsed.TotalMilliseconds, timeout.TotalMilliseconds);
        activity?.Stop();
        services.GetService<TracerProvider>()?.ForceFlush(1000); // while the budget lasts, as the intake's shutdown does
    }

    private async Task FlushAsync(CancellationToken deadline)
    {
        try
        {
            await stream.Connection.PingAsync(deadline).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or NATS.Client.Core.NatsException or TimeoutException)
        {
            // The server is gone or frozen: what it did not read is delivered again after AckWait (and stored once).
        }
    }

    /// <summary>A loop met a store no retry fixes: the host stops (exit code 1), the other loops finish or hand back their batches.</summary>
    private void OnFailed(LoadLoop loop, Exception error) => failure.Fail($"Loader loop {loop.Id}", error);

    [LoggerMessage(EventId = 850, Level = LogLevel.Information, Message = "Loader bound to consumer {Consumer:l} of stream {Stream:l} ({Subjects:l}): {Pending} messages pending, {AckPending} awaiting ack; {Loops} loops fetching up to {FetchBatch} messages, ack wait {AckWait}")]
    private static partial void LogBound(ILogger logger, string consumer, string stream, string subjects, long pending, long ackPending, int loops, int fetchBatch, TimeSpan ackWait);

    [LoggerMessage(EventId = 855, Level = LogLevel.Information, Message = "Loader shutting down: {InHand} messages in hand, deadline {DeadlineMs} ms")]
    private static partial void LogStopping(ILogger logger, int inHand, double deadlineMs);

    [LoggerMessage(EventId = 856, Level = LogLevel.Information, Message = "Loader shutdown complete ({Outcome:l}): in hand at start {InHand}, loaded {Loaded}, handed back {HandedBack}, elapsed {ElapsedMs} ms of {DeadlineMs} ms")]
    private static partial void LogStopped(ILogger logger, string outcome, int inHand, long loaded, long handedBack, double elapsedMs, double deadlineMs);
}
