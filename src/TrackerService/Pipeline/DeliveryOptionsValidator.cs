using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Pipeline;

internal sealed class DeliveryOptionsValidator : IValidateOptions<DeliveryOptions>
{
    public ValidateOptionsResult Validate(string? name, DeliveryOptions options) => new OptionsCheck(DeliveryOptions.Section)
        .Range(nameof(options.Consumers), options.Consumers, 1, 64)
        .Range(nameof(options.BatchSize), options.BatchSize, 1, 100_000)
        .Range(nameof(options.FlushInterval), options.FlushInterval, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1))
        .Result();
}
