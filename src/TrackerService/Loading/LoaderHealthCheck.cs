using Microsoft.Extensions.Diagnostics.HealthChecks;
using Polly.CircuitBreaker;

namespace TrackerService.Loading;

/// <summary>
/// The loader's readiness (<c>/healthz/ready</c>): not ready while starting (until the consumer is bound) and from the
/// first moment of the shutdown; ready but <c>Degraded</c> while the store is unavailable (its circuit open: batches are
/// handed back to the stream, where the events wait) or the stream can't be read (the client reconnects).
/// </summary>
internal sealed class LoaderHealthCheck(IHostApplicationLifetime lifetime, StreamLoader loader, CircuitBreakerStateProvider circuit) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (pending, ackPending) = loader.Lag;
        return Task.FromResult(
            lifetime.ApplicationStopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("Shutting down: finishing or handing back the batches in hand.")
            : !lifetime.ApplicationStarted.IsCancellationRequested || !loader.IsBound ? HealthCheckResult.Unhealthy("Starting: binding the stream's consumer.")
            : circuit.CircuitState != CircuitState.Closed ? HealthCheckResult.Degraded(
                "The store is unavailable: batches are handed back to the stream, where the events wait, and loading resumes when it is back.")
            : loader.StreamFault is { } fault ? HealthCheckResult.Degraded($"The stream can't be read ({fault}); the client reconnects.")
            : HealthCheckResult.Healthy($"Loading: {pending} messages pending, {ackPending} awaiting ack."));
    }
}
