using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Spill;

internal sealed class SpillOptionsValidator : IValidateOptions<SpillOptions>
{
    public ValidateOptionsResult Validate(string? name, SpillOptions options)
    {
        var check = new OptionsCheck(SpillOptions.Section);
        if (string.IsNullOrWhiteSpace(options.Directory) || options.Directory.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            check.Fail(nameof(options.Directory), options.Directory, "must be a folder path");
        }

        if (options.MaxBytes < 1024 * 1024)
        {
            check.Fail(nameof(options.MaxBytes), options.MaxBytes, "must be at least 1048576 (1 MiB)");
        }

        if (options.MaxSegmentBytes < 64 * 1024 || options.MaxSegmentBytes > 1L << 30)
        {
            check.Fail(nameof(options.MaxSegmentBytes), options.MaxSegmentBytes, "must be between 65536 (64 KiB) and 1073741824 (1 GiB)");
        }

        check.Range(nameof(options.ReplayBatchSize), options.ReplayBatchSize, 1, 100_000);
        check.Range(nameof(options.ReplayInterval), options.ReplayInterval, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        return check.Result();
    }
}
