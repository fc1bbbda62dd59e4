using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Pipeline;

internal sealed class DurabilityOptionsValidator : IValidateOptions<DurabilityOptions>
{
    public ValidateOptionsResult Validate(string? name, DurabilityOptions options)
    {
        var check = new OptionsCheck(DurabilityOptions.Section);
        if (options.UnknownMode is { } mode)
        {
            check.Fail(nameof(options.Mode), mode, "must be Memory or Disk (Tracker:Durability=Disk)");
        }

        return check.Range(nameof(options.SegmentBytes), options.SegmentBytes, 64 * 1024, 1L << 40)
        .Range(nameof(options.MaxBytes), options.MaxBytes, options.SegmentBytes, long.MaxValue)
        .Result();
    }
}
