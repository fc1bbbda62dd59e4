using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using TrackerService.Events;
using TrackerService.Spill;

namespace TrackerService.Benchmarks.Store;

/// <summary>
/// How fast the spill writes at shutdown, in events and in bytes (<see cref="TrackedEvent.MemoryBytes"/>, what the
/// shutdown's spill reserve counts) per second: small sample events and large ones (about 32 KB, 2,150 short
/// properties each), written as the drain writes them, in one segment with its fsync.
/// </summary>
internal static class SpillRateCommand
{
    public static async Task<int> RunAsync(string folder, int small, int large, int rounds)
    {
        var receivedAt = DateTimeOffset.UtcNow;
        var smallEvents = Enumerable.Range(0, small).Select(i => SampleEvents.Tracked($"s-{i}", i, receivedAt)).ToList();
        var largeEvents = Enumerable.Range(0, large).Select(i => Large($"l-{i}", receivedAt)).ToList();
        foreach (var (kind, events) in new[] { ("small", smallEvents), ("large", largeEvents) })
        {
            for (var round = 0; round < rounds; round++)
            {
                var dir = Path.Combine(folder, $"{kind}-{round}");
                var spill = new SpillStore(Microsoft.Extensions.Options.Options.Create(new SpillOptions { Directory = dir }), TimeProvider.System, NullLogger<SpillStore>.Instance);
                var bytes = events.Sum(e => e.MemoryBytes);
                var clock = Stopwatch.StartNew();
                await spill.KeepAsync(events, CancellationToken.None);
                var seconds = clock.Elapsed.TotalSeconds;
                var onDisk = Directory.GetFiles(dir, SpillStore.SegmentPattern).Sum(f => new FileInfo(f).Length);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $$"""{"kind":"spill-rate","events":"{{kind}}","count":{{events.Count}},"memory_bytes":{{bytes}},"file_bytes":{{onDisk}},"seconds":{{seconds:F4}},"events_per_s":{{events.Count / seconds:F0}},"memory_bytes_per_s":{{bytes / seconds:F0}}}"""));
                Directory.Delete(dir, recursive: true);
            }
        }

        return 0;
    }

    /// <summary>A track event of about 32 KB: 2,150 short properties, as bench/lib/large-body.py sends them.</summary>
    private static TrackedEvent Large(string messageId, DateTimeOffset receivedAt)
    {
        var properties = new StringBuilder("{");
        for (var i = 0; i < 2150; i++)
        {
            properties.Append(CultureInfo.InvariantCulture, $"{(i > 0 ? "," : "")}\"p{i:D4}\":\"v{i % 100:D2}\"");
        }

        return new TrackedEvent(messageId, EventType.Track, "Large", "user-1", null, receivedAt, null, receivedAt,
            properties.Append('}').ToString(), null, null);
    }
}
