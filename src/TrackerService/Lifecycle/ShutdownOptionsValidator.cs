using System.Globalization;
using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Lifecycle;

internal sealed class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, ShutdownOptions options)
    {
        var check = new OptionsCheck(ShutdownOptions.Section)
            .Range(nameof(options.Timeout), options.Timeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1))
            .Range(nameof(options.DrainDelay), options.DrainDelay, TimeSpan.Zero, options.Timeout);

        // Less than the whole budget, or the requests would leave nothing for the drain.
        if (options.RequestsTimeout is { } requests && (requests < TimeSpan.Zero || requests >= options.Timeout))
        {
            check.Fail(nameof(options.RequestsTimeout), requests.ToString("c", CultureInfo.InvariantCulture),
                $"must be at least 00:00:00 and less than {ShutdownOptions.Section}:{nameof(options.Timeout)} ({options.Timeout:c})");
        }

        return check.Result();
    }
}
