using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using TrackerService.Events;
using TrackerService.Spill;

namespace TrackerService.Benchmarks.Store;

/// <summary>
/// The spill's write path with large events: one event of 2,150 short properties (about 25 KB of JSON, the
/// issue's large event) repeated, written by <see cref="SpillStore.KeepAsync"/> (the shutdown's path) into a folder (segments capped
/// at the default 64 MiB, each fsynced). Reports a spilled line against its input, what the former format (objects
/// as strings, the default encoder's <c>\u0022</c>) would have made of the object, and the write rate.
/// </summary>
internal static class SpillWriteCommand
{
    public static async Task<int> RunAsync(string folder, int events)
    {
        var properties = "{" + string.Join(",", Enumerable.Range(0, 2_150).Select(i => $"\"p{i}\":\"v\"")) + "}";
        var e = new TrackedEvent("large", EventType.Track, "Large", "user-1", null, null, null, DateTimeOffset.UtcNow, properties, null, null);
        var line = new ArrayBufferWriter<byte>();
        SpillFormat.Write(line, e);
        var formerObject = JsonSerializer.Serialize(properties).Length; // as a string, with the default (HTML-safe) encoder

        Directory.CreateDirectory(folder);
        var store = new SpillStore(Microsoft.Extensions.Options.Options.Create(new SpillOptions { Directory = folder }), TimeProvider.System, NullLogger<SpillStore>.Instance);
        var batch = Enumerable.Range(0, events).Select(i => e with { MessageId = $"large-{i}" }).ToArray();
        var clock = Stopwatch.StartNew();
        await store.KeepAsync(batch, CancellationToken.None);
        var seconds = clock.Elapsed.TotalSeconds;
        var segments = store.ListSegments();
        var bytes = segments.Sum(s => new FileInfo(s).Length);
        foreach (var segment in segments)
        {
            File.Delete(segment);
        }

        Output.Result(new
        {
            Command = "spill",
            Events = events,
            InputObjectBytes = properties.Length,
            LineBytes = line.WrittenCount,
            FormerObjectBytes = formerObject,
            Segments = segments.Count,
            Bytes = bytes,
            Seconds = Math.Round(seconds, 3),
            MegabytesPerSecond = Math.Round(bytes / 1e6 / seconds, 1),
            EventsPerSecond = Math.Round(events / seconds),
        });
        return 0;
    }
}
