namespace TrackerService.Durability;

/// <summary>What recovery does to a damaged or wholly confirmed segment: keep its bytes aside, cut it short, remove it.</summary>
internal static class WalRepair
{
    /// <returns>Where the bytes were kept, or null when they could not be.</returns>
    public static string? SetAside(string path, ReadOnlySpan<byte> bytes, string name, ILogger logger)
    {
        try
        {
            var folder = Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(path)!, WalFormat.CorruptFolder)).FullName;
            var target = Path.Combine(folder, name);
            for (var n = 1; File.Exists(target); n++)
            {
                target = Path.Combine(folder, $"{name}.{n}");
            }

            using (var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }

            DiskStorage.Instance.SyncDirectory(folder);
            return Path.Combine(WalFormat.CorruptFolder, Path.GetFileName(target));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            WalLog.NotRepaired(logger, path, ex.Message);
            return null;
        }
    }

    public static bool Truncate(string path, long length, ILogger logger)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
            file.SetLength(length);
            file.Flush(flushToDisk: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            WalLog.NotRepaired(logger, path, ex.Message);
            return false;
        }
    }

    public static void Remove(string path, ILogger logger)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            WalLog.NotRemoved(logger, path, ex.Message);
        }
    }
}
