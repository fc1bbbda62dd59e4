using System.Buffers;
using System.Diagnostics;
using NATS.Client.Core;
using TrackerService.Events;
using TrackerService.Spill;

namespace TrackerService.Streaming;

/// <summary>
/// An event as a JetStream message, the one format on the wire and in the stream, read back by the loader:
/// <list type="bullet">
/// <item>subject <c>{SubjectPrefix}.{type}</c> (<c>tracker.events.track</c>, the type's lower-case wire name), and
/// <c>{SubjectPrefix}.rejected</c> for a rejected stand-in (<see cref="TrackedEvent.Rejection"/> set);</item>
/// <item>payload: the event's spill line (<see cref="SpillFormat.Write"/>, line break included), the same bytes the
/// spill and the write-ahead log keep;</item>
/// <item>header <c>Nats-Msg-Id</c>: the messageId, so the stream's duplicate window drops a copy; for a stand-in
/// <c>rejected:</c> + the messageId, so that a valid event and a rejected one of the same id never drop each other;</item>
/// <item>headers <c>traceparent</c> (and <c>tracestate</c>), W3C: the intake request's span the event came with
/// (<see cref="TrackedEvent.Origin"/>), when known.</item>
/// </list>
/// </summary>
/// <remarks>
/// A dead-letter row (<c>rejected_events</c>: messageId, raw, reason, field, source, receivedAt) travels as the
/// stand-in that carries it: an event of its messageId and receivedAt, type <c>track</c>, its source, and a
/// <see cref="EventRejection"/> of its raw, reason and field, on the <c>.rejected</c> subject. Read back, it is that
/// stand-in, which the store's writer turns into the same row, as it does for the stand-ins the intake makes.
/// </remarks>
internal static class StreamMessage
{
    public const string MessageIdHeader = "Nats-Msg-Id";
    public const string TraceParentHeader = "traceparent";
    public const string TraceStateHeader = "tracestate";

    /// <summary>The last token of the subject of rejected stand-ins.</summary>
    public const string RejectedToken = "rejected";

    /// <summary>What a rejected stand-in's <c>Nats-Msg-Id</c> starts with.</summary>
    public const string RejectedIdPrefix = "rejected:";

    /// <summary>The subject the event is published to.</summary>
    public static string Subject(TrackedEvent e, JetStreamOptions options) =>
        $"{options.SubjectPrefix}.{(e.Rejection is null ? e.Type.ToWireName() : RejectedToken)}";

    /// <summary>The subjects the stream takes: everything under the prefix.</summary>
    public static string StreamSubjects(JetStreamOptions options) => $"{options.SubjectPrefix}.>";

    /// <summary>The event's <c>Nats-Msg-Id</c>.</summary>
    public static string MessageId(TrackedEvent e) => e.Rejection is null ? e.MessageId : RejectedIdPrefix + e.MessageId;

    /// <summary>The message's headers: its id, and the trace context of its intake request when there is one.</summary>
    public static NatsHeaders Headers(TrackedEvent e)
    {
        var headers = new NatsHeaders { [MessageIdHeader] = MessageId(e) };
        var origin = e.Origin;
        if (origin != default)
        {
            headers[TraceParentHeader] = TraceParent(origin);
            if (!string.IsNullOrEmpty(origin.TraceState))
            {
                headers[TraceStateHeader] = origin.TraceState;
            }
        }

        return headers;
    }

    /// <summary>Writes the message's payload: the event's spill line.</summary>
    public static void Write(IBufferWriter<byte> output, TrackedEvent e) => SpillFormat.Write(output, e);

    /// <summary>The payload of <paramref name="e"/> as a new array (tests, tools; the sink writes into a batch's buffer).</summary>
    public static byte[] Payload(TrackedEvent e)
    {
        var output = new ArrayBufferWriter<byte>(512);
        Write(output, e);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>The event a payload holds; null when it is not a complete, valid spill line (a message written by something else).</summary>
    /// <remarks>The <see cref="TrackedEvent.Origin"/> is not in the payload: take it from the headers (<see cref="Origin"/>).</remarks>
    public static TrackedEvent? Decode(ReadOnlySpan<byte> payload) =>
        SpillFormat.Read(payload is [.. var line, (byte)'\n'] ? line : payload);

    /// <summary>The intake request's span a message's event came with, from its W3C headers; default when it has none or a bad one.</summary>
    public static ActivityContext Origin(NatsHeaders? headers)
    {
        if (headers is null || !headers.TryGetValue(TraceParentHeader, out var parent) || parent.Count == 0)
        {
            return default;
        }

        headers.TryGetValue(TraceStateHeader, out var state);
        return ActivityContext.TryParse(parent[0], state.Count > 0 ? state[0] : null, isRemote: true, out var context) ? context : default;
    }

    /// <summary>The W3C <c>traceparent</c> of a span: version 00, trace id, span id, flags.</summary>
    public static string TraceParent(ActivityContext context) =>
        $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{((context.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? "01" : "00")}";
}
