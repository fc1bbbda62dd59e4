using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using TrackerService.Pipeline;
using TrackerService.Telemetry;

namespace TrackerService.Lifecycle;

/// <summary>
/// Runs the shutdown sequence of DESIGN.md inside one time budget (<see cref="ShutdownOptions.Timeout"/>),
/// as one <c>tracker.shutdown</c> span with an event per phase:
/// readiness off → drain delay → server stops taking requests and finishes those in flight → intake
/// closed → consumers drain → the rest is spilled, early enough to be on disk by the deadline.
/// </summary>
/// <remarks>
/// <see cref="StoppingAsync"/> runs after <c>ApplicationStopping</c> (readiness is already 503) and before any
/// hosted service is stopped, so the web server is stopped here, within the budget, rather than by the host
/// with a token of its own. Kestrel's stop is idempotent: the host's later call returns at once.
/// </remarks>
internal sealed partial class ShutdownCoordinator(
    IServer server,
    EventQueue queue,
    DeliveryService delivery,
    IOptions<ShutdownOptions> options,
    IServiceProvider services,
    TimeProvider time,
    ILogger<ShutdownCoordinator> logger) : IHostedLifecycleService
{
    /// <summary>
    /// The slowest spill rate planned for: a quarter of what <c>bench/run</c> measures on a 2-core machine
    /// (about 210,000 events/s), for a slower disk or larger events.
    /// </summary>
    private const double SpillRateFloor = 50_000;

    /// <summary>How often the drain checks whether the time left still covers spilling what is left.</summary>
    private static readonly TimeSpan ReserveCheckInterval = TimeSpan.FromMilliseconds(50);

    private readonly TracerProvider? _tracerProvider = services.GetService<TracerProvider>();
    private readonly Lock _lock = new();
    private Task? _shutdown;

    /// <summary>Runs the shutdown once: a host stopped twice (a test host, an embedding app) gets the first run's result.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _shutdown ??= ShutDownAsync();
        }
    }

    private async Task ShutDownAsync()
    {
        var o = options.Value;
        var started = time.GetTimestamp();
        using var deadline = new CancellationTokenSource(o.Timeout, time);
        using var activity = TrackerTelemetry.ActivitySource.StartActivity(TrackerTelemetry.SpanShutdown, ActivityKind.Internal, parentContext: default);
        var queuedAtStart = queue.Count + delivery.InFlight;

        // Counted from the signal, not from the drain's start: batches in flight when it came, and events from
        // requests still being served while intake stops, are stored during the shutdown too.
        var deliveredAtStart = delivery.Delivered;
        activity?.SetTag("tracker.shutdown.deadline_ms", o.Timeout.TotalMilliseconds);
        activity?.SetTag("tracker.shutdown.queued_at_start", queuedAtStart);
        activity?.AddEvent(new ActivityEvent("readiness.off"));
        LogStarting(logger, queuedAtStart, o.Timeout.TotalMilliseconds);

        try
        {
            if (o.DrainDelay > TimeSpan.Zero)
            {
                await Task.Delay(o.DrainDelay, time, deadline.Token).ConfigureAwait(false);
            }

            await server.StopAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // The deadline came while requests were still in flight: Kestrel has aborted them; carry on.
        }

        activity?.AddEvent(new ActivityEvent("intake.stopped"));
        queue.CompleteWriter();
        activity?.AddEvent(new ActivityEvent("queue.completed"));

        DrainResult result;
        using (var drainEnd = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token))
        using (ReserveSpillTime(drainEnd, started, o.Timeout))
        {
            result = await delivery.DrainAsync(drainEnd.Token).ConfigureAwait(false);
        }

        activity?.AddEvent(new ActivityEvent(result.DeadlineReached ? "deadline.reached" : "drain.finished"));
        activity?.AddEvent(new ActivityEvent("spill.written", tags: new ActivityTagsCollection { ["tracker.shutdown.spilled"] = result.Spilled }));

        var elapsed = time.GetElapsedTime(started);
        var drained = delivery.Delivered - deliveredAtStart;
        activity?.SetTag("tracker.shutdown.drained", drained);
        activity?.SetTag("tracker.shutdown.spilled", result.Spilled);
        activity?.SetTag("tracker.shutdown.elapsed_ms", elapsed.TotalMilliseconds);
        activity?.SetTag("tracker.shutdown.outcome", result.DeadlineReached ? "deadline_reached" : "drained");
        activity?.SetStatus(result.Spilled == 0 ? ActivityStatusCode.Ok : ActivityStatusCode.Unset);
        LogFinished(logger, result.DeadlineReached ? "deadline reached" : "drained", queuedAtStart, drained, result.Spilled,
            elapsed.TotalMilliseconds, o.Timeout.TotalMilliseconds);
        activity?.Stop();

        // Export the trace now, while the budget lasts, rather than at container disposal.
        _tracerProvider?.ForceFlush(1000);
    }

    /// <summary>
    /// The time a spill of <paramref name="events"/> is given: the consumers' grace to hand back their batches,
    /// and the events at <see cref="SpillRateFloor"/>.
    /// </summary>
    private static TimeSpan SpillReserve(int events) =>
        DeliveryService.AbandonGrace + TimeSpan.FromSeconds(events / SpillRateFloor);

    /// <summary>
    /// Ends the drain (<paramref name="drainEnd"/>) as soon as the budget left would no longer cover spilling
    /// what is still queued or in flight: the spill is the one step that must finish by the deadline, since
    /// the watchdog then ends the process and the orchestrator's kill follows.
    /// </summary>
    private ITimer ReserveSpillTime(CancellationTokenSource drainEnd, long started, TimeSpan budget) =>
        time.CreateTimer(_ =>
        {
            var events = queue.Count + delivery.InFlight;
            var left = budget - time.GetElapsedTime(started);
            var reserve = SpillReserve(events);
            if (left > reserve)
            {
                return;
            }

            try
            {
                if (!drainEnd.IsCancellationRequested)
                {
                    LogSpillReserve(logger, left.TotalMilliseconds, events, reserve.TotalMilliseconds);
                    drainEnd.Cancel();
                }
            }
            catch (ObjectDisposedException)
            {
                // The drain ended as this tick ran.
            }
        }, null, TimeSpan.Zero, ReserveCheckInterval);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Shutting down: {Queued} events queued or in flight, deadline {DeadlineMs} ms")]
    private static partial void LogStarting(ILogger logger, int queued, double deadlineMs);

    [LoggerMessage(EventId = 502, Level = LogLevel.Warning, Message = "Ending the drain {LeftMs} ms before the deadline: spilling the {Events} events left is given up to {ReserveMs} ms")]
    private static partial void LogSpillReserve(ILogger logger, double leftMs, int events, double reserveMs);

    [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "Shutdown complete ({Outcome:l}): queued at start {Queued}, stored {Drained}, spilled {Spilled}, elapsed {ElapsedMs} ms of {DeadlineMs} ms")]
    private static partial void LogFinished(ILogger logger, string outcome, int queued, long drained, int spilled, double elapsedMs, double deadlineMs);
}
