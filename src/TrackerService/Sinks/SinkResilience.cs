using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace TrackerService.Sinks;

/// <summary>The named Polly pipeline that every sink write goes through.</summary>
internal static class SinkResilience
{
    public const string PipelineName = "tracker-sink";

    /// <summary>
    /// Retry (transient failures and timed-out attempts, exponential backoff with jitter, at most
    /// <see cref="SinkOptions.MaxRetryAttempts"/> times) around a circuit breaker around a per-attempt timeout.
    /// The caller's token (the shutdown deadline) cuts every attempt and every wait short. A batch that still
    /// fails, or meets an open circuit, is the caller's to spill; a failure that is not transient is not retried.
    /// </summary>
    public static void Configure(ResiliencePipelineBuilder builder, SinkOptions options, Func<Exception, bool> isTransient,
        CircuitBreakerStateProvider? circuitState = null, Action? onCircuitClosed = null)
    {
        var transient = new PredicateBuilder().Handle<Exception>(ex => IsWorthRetrying(ex, isTransient));
        builder
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = transient,
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = transient,
                FailureRatio = options.CircuitFailureRatio,
                SamplingDuration = options.CircuitSamplingDuration,
                MinimumThroughput = options.CircuitMinimumThroughput,
                BreakDuration = options.CircuitBreakDuration,
                StateProvider = circuitState,
                OnClosed = _ =>
                {
                    onCircuitClosed?.Invoke();
                    return default;
                },
            })
            .AddTimeout(options.AttemptTimeout);
    }

    /// <summary>Whether a failed batch may be kept for later (spill, replay) rather than stopping the service.</summary>
    public static bool IsWorthRetrying(Exception exception, Func<Exception, bool> isTransient) =>
        exception is TimeoutRejectedException || isTransient(exception);

    /// <summary>Whether the store gave up on a batch for now: retries exhausted on a transient failure, or the circuit is open.</summary>
    public static bool IsUnavailable(Exception exception, Func<Exception, bool> isTransient) =>
        exception is BrokenCircuitException || IsWorthRetrying(exception, isTransient);
}
