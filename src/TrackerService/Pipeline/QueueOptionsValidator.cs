using Microsoft.Extensions.Options;
using TrackerService.Api;
using TrackerService.Options;

namespace TrackerService.Pipeline;

internal sealed class QueueOptionsValidator(IOptions<ApiOptions> api) : IValidateOptions<QueueOptions>
{
    public ValidateOptionsResult Validate(string? name, QueueOptions options)
    {
        var check = new OptionsCheck(QueueOptions.Section)
            .Range(nameof(options.Capacity), options.Capacity, 1, 100_000_000)
            .Range(nameof(options.EnqueueTimeout), options.EnqueueTimeout, TimeSpan.Zero, TimeSpan.FromMinutes(1))
            .Range(nameof(options.MaxWaitingEvents), options.MaxWaitingEvents, 0, 100_000_000);

        // A request larger than the whole queue could never be admitted.
        if (options.Capacity < api.Value.MaxBatchEvents)
        {
            check.Fail(nameof(options.Capacity), options.Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"must be at least {ApiOptions.Section}:{nameof(ApiOptions.MaxBatchEvents)} ({api.Value.MaxBatchEvents})");
        }

        return check.Result();
    }
}
