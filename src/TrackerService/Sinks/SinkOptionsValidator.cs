using Microsoft.Extensions.Options;
using TrackerService.Hosting;

namespace TrackerService.Sinks;

internal sealed class SinkOptionsValidator : IValidateOptions<SinkOptions>
{
    public ValidateOptionsResult Validate(string? name, SinkOptions options)
    {
        var check = new OptionsCheck(SinkOptions.Section)
            .Range(nameof(options.AttemptTimeout), options.AttemptTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(5))
            .Range(nameof(options.RetryBaseDelay), options.RetryBaseDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1))
            .Range(nameof(options.RetryMaxDelay), options.RetryMaxDelay, options.RetryBaseDelay, TimeSpan.FromMinutes(5));
        if (!Enum.IsDefined(options.Kind))
        {
            check.Fail(nameof(options.Kind), options.Kind.ToString(), $"must be one of {string.Join(", ", Enum.GetNames<SinkKind>())}");
        }

        return check.Result();
    }
}
