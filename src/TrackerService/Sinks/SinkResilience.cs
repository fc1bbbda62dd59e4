using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace TrackerService.Sinks;

/// <summary>The named Polly pipeline that every sink write goes through.</summary>
internal static class SinkResilience
{
    public const string PipelineName = "tracker-sink";

    /// <summary>
    /// Each attempt is bounded by <see cref="SinkOptions.AttemptTimeout"/>; transient failures (and timed-out
    /// attempts) are retried with exponential backoff and jitter for as long as the caller's token allows (the
    /// shutdown deadline cancels it). Any other failure is not retried: it stops the service.
    /// </summary>
    public static void Configure(ResiliencePipelineBuilder builder, SinkOptions options, Func<Exception, bool> isTransient) => builder
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is TimeoutRejectedException || isTransient(ex)),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryBaseDelay,
            MaxDelay = options.RetryMaxDelay,
        })
        .AddTimeout(options.AttemptTimeout);
}
