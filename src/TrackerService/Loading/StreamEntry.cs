using System.Buffers;
using NATS.Client.Core;
using TrackerService.Events;
using TrackerService.Streaming;

namespace TrackerService.Loading;

/// <summary>
/// One stream message as the loader reads it: its event (<see cref="StreamMessage.Decode"/>, a rejected stand-in
/// included), or, for a payload that is no event, the payload itself, kept to be dead-lettered as it came.
/// </summary>
/// <param name="Event">The event; null when the payload is not an event's line.</param>
/// <param name="Raw">The payload when it is not an event's line (nothing is copied for one that is).</param>
internal sealed record StreamEntry(TrackedEvent? Event, byte[]? Raw)
{
    /// <summary>
    /// The NATS client's deserializer for a fetch. It runs on the connection's read loop as the messages arrive, beside
    /// the loops that write the batches already fetched.
    /// </summary>
    public static readonly INatsDeserialize<StreamEntry> Serializer = new Deserializer();

    private sealed class Deserializer : INatsDeserialize<StreamEntry>
    {
        public StreamEntry Deserialize(in ReadOnlySequence<byte> buffer)
        {
            var e = buffer.IsSingleSegment ? StreamMessage.Decode(buffer.FirstSpan) : StreamMessage.Decode(buffer.ToArray());
            return new StreamEntry(e, e is null ? buffer.ToArray() : null);
        }
    }
}
