using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Pipeline;

/// <remarks>The rule that spans sections (room for the largest request) is the composition root's: <c>Hosting/CrossSectionRules.cs</c>.</remarks>
internal sealed class QueueOptionsValidator : IValidateOptions<QueueOptions>
{
    public ValidateOptionsResult Validate(string? name, QueueOptions options) => new OptionsCheck(QueueOptions.Section)
        .Range(nameof(options.Capacity), options.Capacity, 1, 100_000_000)
        .Range(nameof(options.EnqueueTimeout), options.EnqueueTimeout, TimeSpan.Zero, TimeSpan.FromMinutes(1))
        .Range(nameof(options.MaxWaitingEvents), options.MaxWaitingEvents, 0, 100_000_000)
        .Result();
}
