using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Lifecycle;

internal sealed class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, ShutdownOptions options) => new OptionsCheck(ShutdownOptions.Section)
        .Range(nameof(options.Timeout), options.Timeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1))
        .Range(nameof(options.DrainDelay), options.DrainDelay, TimeSpan.Zero, options.Timeout)
        .Result();
}
