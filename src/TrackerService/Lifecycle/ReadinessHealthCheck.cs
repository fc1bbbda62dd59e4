using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TrackerService.Lifecycle;

/// <summary>
/// Ready between the end of start-up and the first moment of shutdown: a load balancer stops sending
/// traffic as soon as a stop begins, while the drain goes on behind it.
/// </summary>
internal sealed class ReadinessHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public const string Tag = "ready";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            lifetime.ApplicationStopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("Shutting down: draining the queue.")
            : !lifetime.ApplicationStarted.IsCancellationRequested ? HealthCheckResult.Unhealthy("Starting.")
            : HealthCheckResult.Healthy("Taking events."));
}
