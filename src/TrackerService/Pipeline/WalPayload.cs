using System.Buffers;
using TrackerService.Events;
using TrackerService.Spill;

namespace TrackerService.Pipeline;

/// <summary>
/// A request's events as one write-ahead log record: their spill lines (<see cref="SpillFormat"/>), one per event, so
/// that the log and the spill keep events in one format, read by one reader.
/// </summary>
internal static class WalPayload
{
    public static byte[] Lines(TrackedEvent[] events)
    {
        var output = new ArrayBufferWriter<byte>(256 * events.Length);
        foreach (var e in events)
        {
            SpillFormat.Write(output, e);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>The record's events; a line that is not one (the record's checksum held, so only a bug writes one) is skipped.</summary>
    public static TrackedEvent[] Read(ReadOnlySpan<byte> payload)
    {
        var events = new List<TrackedEvent>();
        while (!payload.IsEmpty)
        {
            var end = payload.IndexOf((byte)'\n');
            var line = end < 0 ? payload : payload[..end];
            if (!line.IsEmpty && SpillFormat.Read(line) is { } e)
            {
                events.Add(e);
            }

            payload = end < 0 ? [] : payload[(end + 1)..];
        }

        return [.. events];
    }
}
