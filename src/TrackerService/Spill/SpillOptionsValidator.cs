using Microsoft.Extensions.Options;
using TrackerService.Hosting;

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

        return check.Result();
    }
}
