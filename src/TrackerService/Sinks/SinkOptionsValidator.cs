using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Sinks;

internal sealed class SinkOptionsValidator : IValidateOptions<SinkOptions>
{
    public ValidateOptionsResult Validate(string? name, SinkOptions options)
    {
        var check = new OptionsCheck(SinkOptions.Section)
            .Range(nameof(options.AttemptTimeout), options.AttemptTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(5))
            .Range(nameof(options.RetryBaseDelay), options.RetryBaseDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1))
            .Range(nameof(options.RetryMaxDelay), options.RetryMaxDelay, options.RetryBaseDelay, TimeSpan.FromMinutes(5))
            .Range(nameof(options.MaxRetryAttempts), options.MaxRetryAttempts, 1, 100)
            .Range(nameof(options.CircuitSamplingDuration), options.CircuitSamplingDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromHours(1))
            .Range(nameof(options.CircuitMinimumThroughput), options.CircuitMinimumThroughput, 2, 10_000)
            .Range(nameof(options.CircuitBreakDuration), options.CircuitBreakDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromHours(1));
        if (options.CircuitFailureRatio is <= 0 or > 1)
        {
            check.Fail(nameof(options.CircuitFailureRatio), options.CircuitFailureRatio, "must be above 0 and at most 1");
        }
        if (!Enum.IsDefined(options.Kind))
        {
            check.Fail(nameof(options.Kind), options.Kind.ToString(), $"must be one of {string.Join(", ", Enum.GetNames<SinkKind>())}");
        }

        return check.Result();
    }
}
