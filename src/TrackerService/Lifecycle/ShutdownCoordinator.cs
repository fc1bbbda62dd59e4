using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using TrackerService.Pipeline;
using TrackerService.Telemetry;

namespace TrackerService.Lifecycle;

/// <summary>
/// Runs the shutdown sequence of docs/design.md inside one <see cref="DrainBudget"/> (<see cref="ShutdownOptions.Timeout"/>),
/// as one <c>tracker.shutdown</c> span with an event per phase: readiness off → drain delay → server stops taking
/// requests and finishes those in flight → intake closed → consumers drain → the rest is spilled. It only sequences
/// the phases and reports them; the budget owns every time rule, the delivery service the drain itself.
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
    TrackerTelemetry telemetry,
    ILogger<ShutdownCoordinator> logger) : IHostedLifecycleService
{
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
        using var budget = new DrainBudget(o.Timeout, time, logger);
        using var activity = TrackerTelemetry.ActivitySource.StartActivity(TrackerTelemetry.SpanShutdown, ActivityKind.Internal, parentContext: default);
        var queuedAtStart = queue.Count + delivery.InFlight;

        // Counted from the signal, not from the drain's start: batches in flight when it came, and events from
        // requests still being served while intake stops, are stored during the shutdown too.
        var deliveredAtStart = delivery.Delivered;
        activity?.SetTag(TrackerTelemetry.TagShutdownDeadlineMs, o.Timeout.TotalMilliseconds);
        activity?.SetTag(TrackerTelemetry.TagShutdownQueuedAtStart, queuedAtStart);
        activity?.AddEvent(new ActivityEvent(TrackerTelemetry.EventReadinessOff));
        LogStarting(logger, queuedAtStart, o.Timeout.TotalMilliseconds);

        try
        {
            if (o.DrainDelay > TimeSpan.Zero)
            {
                await Task.Delay(o.DrainDelay, time, budget.Deadline).ConfigureAwait(false);
            }

            // The requests in flight get their share of the budget, no more: when it is up, Kestrel aborts those still
            // running (their clients got no 202 and retry), so one slow client can't keep the drain waiting.
            using var requests = new CancellationTokenSource(o.RequestsShare, time);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(requests.Token, budget.Deadline);
            try
            {
                await server.StopAsync(stop.Token).ConfigureAwait(false);
            }
            finally
            {
                if (stop.IsCancellationRequested)
                {
                    LogRequestsAborted(logger, budget.Elapsed.TotalMilliseconds, o.RequestsShare.TotalMilliseconds);
                }
            }
        }
        catch (OperationCanceledException) when (budget.Deadline.IsCancellationRequested)
        {
            // The deadline came while requests were still in flight: Kestrel has aborted them; carry on.
        }
        catch (OperationCanceledException)
        {
            // Their share of the budget is up: Kestrel has aborted them; carry on.
        }

        activity?.AddEvent(new ActivityEvent(TrackerTelemetry.EventIntakeStopped));
        queue.CompleteWriter();
        activity?.AddEvent(new ActivityEvent(TrackerTelemetry.EventQueueCompleted));

        var result = await delivery.DrainAsync(budget).ConfigureAwait(false);
        activity?.AddEvent(new ActivityEvent(result.DeadlineReached ? TrackerTelemetry.EventDeadlineReached : TrackerTelemetry.EventDrainFinished));
        activity?.AddEvent(new ActivityEvent(TrackerTelemetry.EventSpillWritten,
            tags: new ActivityTagsCollection { [TrackerTelemetry.TagShutdownSpilled] = result.Spilled }));

        var elapsed = budget.Elapsed;
        var drained = delivery.Delivered - deliveredAtStart;
        var outcome = result.DeadlineReached ? TrackerTelemetry.ShutdownDeadlineReached : TrackerTelemetry.ShutdownDrained;
        activity?.SetTag(TrackerTelemetry.TagShutdownDrained, drained);
        activity?.SetTag(TrackerTelemetry.TagShutdownSpilled, result.Spilled);
        activity?.SetTag(TrackerTelemetry.TagShutdownElapsedMs, elapsed.TotalMilliseconds);
        activity?.SetTag(TrackerTelemetry.TagShutdownOutcome, outcome);
        activity?.SetStatus(result.Spilled == 0 ? ActivityStatusCode.Ok : ActivityStatusCode.Unset);
        LogFinished(logger, result.DeadlineReached ? "deadline reached" : "drained", telemetry.AcceptedTotal, queuedAtStart, drained, result.Spilled,
            elapsed.TotalMilliseconds, o.Timeout.TotalMilliseconds);
        activity?.Stop();

        // Export the trace now, while the budget lasts: the watchdog may end the process before the providers are disposed.
        _tracerProvider?.ForceFlush(1000);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Shutting down: {Queued} events queued or in flight, deadline {DeadlineMs} ms")]
    private static partial void LogStarting(ILogger logger, int queued, double deadlineMs);

    [LoggerMessage(EventId = 505, Level = LogLevel.Warning, Message = "Requests still in flight {ElapsedMs} ms into the shutdown were aborted (their share is {RequestsTimeoutMs} ms); their clients got no 202 and retry")]
    private static partial void LogRequestsAborted(ILogger logger, double elapsedMs, double requestsTimeoutMs);

    [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "Shutdown complete ({Outcome:l}): accepted {Accepted} since start, queued at start {Queued}, stored {Drained}, spilled {Spilled}, elapsed {ElapsedMs} ms of {DeadlineMs} ms")]
    private static partial void LogFinished(ILogger logger, string outcome, long accepted, int queued, long drained, int spilled, double elapsedMs, double deadlineMs);
}
