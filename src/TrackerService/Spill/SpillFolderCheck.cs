using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Spill;

/// <summary>
/// At start, beside the settings: the spill folder can be created and written (a probe file written, flushed to
/// disk and deleted). A folder that can't would lose every event of the first spill, so the service refuses to
/// start, with one line naming the path, rather than report itself healthy.
/// </summary>
internal sealed class SpillFolderCheck : IValidateOptions<SpillOptions>
{
    public ValidateOptionsResult Validate(string? name, SpillOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Directory) || options.Directory.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            return ValidateOptionsResult.Skip; // the section's own validator says why
        }

        var folder = Path.GetFullPath(options.Directory);
        try
        {
            Directory.CreateDirectory(folder);
            var probe = Path.Combine(folder, $".probe-{Guid.CreateVersion7():N}");
            using (var file = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
                file.Write("probe\n"u8);
                file.Flush(flushToDisk: true);
            }

            return ValidateOptionsResult.Success;
        }
        catch (Exception ex) when (SpillStore.IsDiskError(ex))
        {
            return new OptionsCheck(SpillOptions.Section)
                .Fail(nameof(options.Directory), options.Directory, $"must be a folder the service can write, and {folder} can't be ({ex.Message})")
                .Result();
        }
    }
}
