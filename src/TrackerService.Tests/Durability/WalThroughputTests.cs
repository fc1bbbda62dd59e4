using System.Diagnostics;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using TrackerService.Durability;
using Xunit.Abstractions;

namespace TrackerService.Tests.Durability;

/// <summary>
/// How fast the log makes appends durable on this disk, next to the disk's raw sync rate: 32 appenders of 1 KB for 3 s,
/// then loops of 1 KB write + fdatasync, and + fsync, for 3 s each. A measurement, not a check: it runs only with TRACKER_WAL_BENCH=1.
/// </summary>
public sealed class WalThroughputTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(3);
    private readonly WalFolder _folder = new();

    [SkippableFact]
    public async Task GroupCommitAgainstTheRawSyncRate()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("TRACKER_WAL_BENCH") == "1", "a measurement: set TRACKER_WAL_BENCH=1 to run it");
        var payload = new byte[1024];
        long appends = 0;
        var elapsed = Stopwatch.StartNew();
        await using (var log = await WalFolder.OpenAsync(_folder.Options()))
        {
            var appenders = Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
            {
                while (elapsed.Elapsed < Duration)
                {
                    await log.AppendAsync(payload, CancellationToken.None);
                    Interlocked.Increment(ref appends);
                }
            }));
            await Task.WhenAll(appenders);
            var seconds = elapsed.Elapsed.TotalSeconds;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"log: {appends / seconds:F0} appends/s, {log.Syncs / seconds:F0} syncs/s, {(double)appends / log.Syncs:F1} appends per sync (32 appenders, 1 KB)"));
        }

        Raw("fdatasync", DiskSync.Data, payload);
        Raw("fsync", RandomAccess.FlushToDisk, payload);
    }

    private void Raw(string name, Action<SafeFileHandle> sync, byte[] payload)
    {
        using var file = File.OpenHandle(Path.Combine(_folder.Path, name), FileMode.CreateNew, FileAccess.ReadWrite);
        long syncs = 0;
        var elapsed = Stopwatch.StartNew();
        for (long offset = 0; elapsed.Elapsed < Duration; offset += payload.Length, syncs++)
        {
            RandomAccess.Write(file, payload, offset);
            sync(file);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"raw: {syncs / elapsed.Elapsed.TotalSeconds:F0} write+{name}/s (1 KB appended each)"));
    }

    public void Dispose() => _folder.Dispose();
}
