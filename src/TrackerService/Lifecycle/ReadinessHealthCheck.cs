using Microsoft.Extensions.Diagnostics.HealthChecks;
using TrackerService.Pipeline;

namespace TrackerService.Lifecycle;

/// <summary>
/// Whether this instance can take events now, which is what a load balancer asks: not while starting, not from the
/// first moment of shutdown (the drain goes on behind it), and not while the queue is turning requests away (full by
/// events or by bytes: it refused a request and has had no room for one of that size since). Ready again as soon as
/// the queue has that room. A store that is down is not in itself a reason: while the queue has room, the spill takes
/// the events, and the sink's own check says <c>Degraded</c>.
/// </summary>
internal sealed class ReadinessHealthCheck(IHostApplicationLifetime lifetime, EventQueue queue) : IHealthCheck
{
    public const string Tag = "ready";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            lifetime.ApplicationStopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("Shutting down: draining the queue.")
            : !lifetime.ApplicationStarted.IsCancellationRequested ? HealthCheckResult.Unhealthy("Starting.")
            : queue.IsRefusing ? HealthCheckResult.Unhealthy("The event queue is full: requests get 503 until it has room.")
            : HealthCheckResult.Healthy("Taking events."));
}
