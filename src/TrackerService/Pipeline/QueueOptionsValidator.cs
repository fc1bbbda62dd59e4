using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Pipeline;

/// <remarks>The rules that span sections (room for the largest request) are the composition root's: <c>Hosting/CrossSectionRules.cs</c>.</remarks>
internal sealed class QueueOptionsValidator : IValidateOptions<QueueOptions>
{
    /// <summary>The byte bounds' limits: below a mebibyte a single request of the API's default limits would not fit; above 1 TiB is a typo.</summary>
    private const long MinBytes = 1024 * 1024;

    private const long MaxBytes = 1024L * 1024 * 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, QueueOptions options)
    {
        var check = new OptionsCheck(QueueOptions.Section)
            .Range(nameof(options.Capacity), options.Capacity, 1, 100_000_000)
            .Range(nameof(options.EnqueueTimeout), options.EnqueueTimeout, TimeSpan.Zero, TimeSpan.FromMinutes(1))
            .Range(nameof(options.MaxWaitingEvents), options.MaxWaitingEvents, 0, 100_000_000);
        if (options.MaxBytes is < MinBytes or > MaxBytes)
        {
            check.Fail(nameof(options.MaxBytes), options.MaxBytes, $"must be between {MinBytes} (1 MiB) and {MaxBytes} (1 TiB)");
        }

        if (options.MaxWaitingBytes is < 0 or > MaxBytes)
        {
            check.Fail(nameof(options.MaxWaitingBytes), options.MaxWaitingBytes, $"must be between 0 and {MaxBytes} (1 TiB)");
        }

        return check.Result();
    }
}
