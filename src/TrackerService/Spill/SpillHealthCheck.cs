using Microsoft.Extensions.Diagnostics.HealthChecks;
using Polly.CircuitBreaker;

namespace TrackerService.Spill;

/// <summary>
/// Reports the spill on the readiness endpoint. A spill that can't take writes (full, or a disk that refuses them)
/// while the store is unavailable too leaves accepted events nowhere to go but memory: the queue fills and new
/// requests get 503, so the replica is not ready. Either alone only degrades it.
/// </summary>
internal sealed class SpillHealthCheck(SpillStore spill, CircuitBreakerStateProvider circuit) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(spill.Refusal switch
        {
            null => HealthCheckResult.Healthy("The spill takes writes."),
            { } why when circuit.CircuitState != CircuitState.Closed => HealthCheckResult.Unhealthy(
                $"The store is unavailable and the spill in {spill.Folder} can't be written ({why}): accepted events are held in memory and new requests get 503 until one of them is back."),
            { } why => HealthCheckResult.Degraded($"The spill in {spill.Folder} can't be written ({why}); the store takes writes."),
        });
}
