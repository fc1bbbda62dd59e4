using Microsoft.Extensions.Logging.Abstractions;
using TrackerService.Durability;

namespace TrackerService.Tests.Durability;

/// <summary>A temporary folder for one log, removed at the end.</summary>
internal sealed class WalFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("wal-test-").FullName;

    public string Corrupt => System.IO.Path.Combine(Path, WalFormat.CorruptFolder);

    /// <param name="preallocate">Off by default here, so a test sees a segment's bytes as written; <see cref="WalSpareTests"/> and the model test turn it on.</param>
    public WalOptions Options(long segmentBytes = 64L << 20, long maxBytes = 1L << 30, bool preallocate = false) =>
        new() { Directory = Path, SegmentBytes = segmentBytes, MaxBytes = maxBytes, Preallocate = preallocate };

    /// <summary>Where the last segment's records end: its length, or the start of the zeros of a segment made ahead.</summary>
    public static long RecordsEnd(string segment)
    {
        var bytes = File.ReadAllBytes(segment);
        var at = WalFormat.HeaderBytes;
        while (at < bytes.Length && WalFormat.ReadFrame(bytes, at, out var payload) == FrameRead.Valid)
        {
            at += WalFormat.FrameBytes(payload.Length);
        }

        return at;
    }

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
