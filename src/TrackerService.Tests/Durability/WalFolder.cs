using Microsoft.Extensions.Logging.Abstractions;
using TrackerService.Durability;

namespace TrackerService.Tests.Durability;

/// <summary>A temporary folder for one log, removed at the end.</summary>
internal sealed class WalFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("wal-test-").FullName;

    public string Corrupt => System.IO.Path.Combine(Path, WalFormat.CorruptFolder);

    public WalOptions Options(long segmentBytes = 64L << 20, long maxBytes = 1L << 30) =>
        new() { Directory = Path, SegmentBytes = segmentBytes, MaxBytes = maxBytes };

    public static Task<WriteAheadLog> OpenAsync(WalOptions options, IWalStorage? storage = null) =>
        WriteAheadLog.OpenAsync(options, NullLogger.Instance, telemetry: null, storage ?? DiskStorage.Instance, CancellationToken.None);

    public string[] Segments() =>
        [.. Directory.GetFiles(Path, "*" + WalFormat.Extension).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal)!];

    public string[] SetAside() =>
        Directory.Exists(Corrupt) ? [.. Directory.GetFiles(Corrupt).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal)!] : [];

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder harms nothing.
        }
    }
}
