using Microsoft.Extensions.Diagnostics.HealthChecks;
using Polly.CircuitBreaker;

namespace TrackerService.Sinks;

/// <summary>
/// Reports the store's circuit on the readiness endpoint. An open circuit is Degraded, not Unhealthy:
/// the service still takes events (into its queue and spill), so a load balancer should keep sending them.
/// </summary>
internal sealed class SinkHealthCheck(CircuitBreakerStateProvider circuit) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(circuit.CircuitState switch
        {
            CircuitState.Closed => HealthCheckResult.Healthy("The store takes writes."),
            CircuitState.HalfOpen => HealthCheckResult.Degraded("The store was unavailable; a probe write is under way."),
            _ => HealthCheckResult.Degraded("The store is unavailable: events are kept in the spill and replayed when it is back."),
        });
}
