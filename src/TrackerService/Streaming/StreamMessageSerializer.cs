using System.Buffers;
using NATS.Client.Core;
using TrackerService.Events;

namespace TrackerService.Streaming;

/// <summary>
/// <see cref="StreamMessage"/>'s payload as the NATS client's serializer: a publish writes the event's spill line
/// straight into the connection's write buffer (no copy of its own), and a fetch reads a message back as its event
/// (null for a payload that is no event).
/// </summary>
internal sealed class StreamMessageSerializer : INatsSerialize<TrackedEvent>, INatsDeserialize<TrackedEvent?>
{
    public static readonly StreamMessageSerializer Default = new();

    public void Serialize(IBufferWriter<byte> bufferWriter, TrackedEvent value) => StreamMessage.Write(bufferWriter, value);

    public TrackedEvent? Deserialize(in ReadOnlySequence<byte> buffer) =>
        buffer.IsSingleSegment ? StreamMessage.Decode(buffer.FirstSpan) : StreamMessage.Decode(buffer.ToArray());
}
