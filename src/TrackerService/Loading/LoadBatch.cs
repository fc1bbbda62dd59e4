using System.Diagnostics;
using System.Text;
using NATS.Client.JetStream;
using TrackerService.Events;
using TrackerService.Pipeline;
using TrackerService.Sinks;
using TrackerService.Streaming;

namespace TrackerService.Loading;

/// <summary>
/// The messages of one fetch, on their way to the store: their events (rejected stand-ins included, which the store's
/// writer turns into <c>rejected_events</c> rows), a dead-letter row for each message that is no event, and the intake
/// request spans they came with. Acked only once the store has committed them; otherwise handed back (nak).
/// </summary>
internal sealed class LoadBatch(string stream, int capacity, bool traced)
{
    private readonly List<INatsJSMsg<StreamEntry>> _messages = new(capacity);
    private readonly HashSet<ActivitySpanId> _origins = [];

    /// <summary>The events to write, in the order they came.</summary>
    public List<TrackedEvent> Events { get; } = new(capacity);

    /// <summary>A row for each message whose payload is no event: kept in the dead-letter table, then acked.</summary>
    public List<RejectedEvent> Undecodable { get; } = [];

    /// <summary>Links to the intake request spans the events came with, at most <see cref="DeliveryBatch.MaxLinks"/> (only while spans are recorded).</summary>
    public List<ActivityLink> Links { get; } = [];

    /// <summary>How many intake requests (distinct request spans) the events came with; 0 when unknown or not traced.</summary>
    public int Requests => _origins.Count;

    /// <summary>Messages the stream had delivered before (to this loader or another): a loader died, timed out or handed them back.</summary>
    public int Redelivered { get; private set; }

    public int Count => _messages.Count;

    public void Add(INatsJSMsg<StreamEntry> message)
    {
        _messages.Add(message);
        if ((AckSubject.Delivered(message.ReplyTo) ?? message.Metadata?.NumDelivered) > 1)
        {
            Redelivered++;
        }

        if (message.Data is { Event: { } e })
        {
            Events.Add(e);
        }
        else
        {
            Undecodable.Add(DeadLetterRow(message));
        }

        if (traced && StreamMessage.Origin(message.Headers) is { } origin && origin != default && _origins.Add(origin.SpanId) && Links.Count < DeliveryBatch.MaxLinks)
        {
            Links.Add(new ActivityLink(origin));
        }
    }

    /// <summary>Acks every message: called once the store has committed the batch.</summary>
    public async Task AckAsync(CancellationToken cancellationToken)
    {
        foreach (var message in _messages)
        {
            await message.AckAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Hands every message back to the stream (nak), to be delivered again, to any loader, after <paramref name="delay"/>
    /// (at once when zero). Best effort: a message whose nak does not arrive is delivered again after the consumer's AckWait.
    /// </summary>
    public async Task HandBackAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        var options = delay > TimeSpan.Zero ? new AckOpts { NakDelay = delay } : (AckOpts?)null;
        try
        {
            foreach (var message in _messages)
            {
                await message.NakAsync(options, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or NATS.Client.Core.NatsException)
        {
            // The deadline came, or the connection is gone: the rest come back after AckWait.
        }
    }

    /// <summary>
    /// Tells the stream, every <paramref name="period"/> until <paramref name="cancellationToken"/> fires, that the batch
    /// is still being worked on (in progress), so that a write the store takes long over (retries, a slow commit) does not
    /// have the stream deliver the batch to another loader meanwhile. A loader that dies stops saying so, and its batch is
    /// delivered again one AckWait later.
    /// </summary>
    public async Task KeepAsync(TimeSpan period, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(period, time);
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var message in _messages)
                {
                    await message.AckProgressAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or NATS.Client.Core.NatsException)
        {
            // The write ended (or the connection is gone, and AckWait decides).
        }
    }

    /// <summary>
    /// The dead-letter row of a message that is no event: its payload as text, under its <c>Nats-Msg-Id</c> (or, without
    /// one, its place in the stream, the same at every delivery), received when the stream stored it.
    /// </summary>
    private RejectedEvent DeadLetterRow(INatsJSMsg<StreamEntry> message)
    {
        var sequence = message.Metadata?.Sequence.Stream ?? 0;
        var id = message.Headers is { } h && h.TryGetLastValue(StreamMessage.MessageIdHeader, out var header) && header.Length > 0
            ? header
            : $"{stream}:{sequence}";
        var raw = message.Data?.Raw is { } bytes ? Encoding.UTF8.GetString(bytes) : "";
        return new RejectedEvent(id, raw,
            $"not an event: the payload of the message on {message.Subject} (stream {stream}, sequence {sequence}) is not an event's line",
            message.Metadata?.Timestamp ?? DateTimeOffset.UtcNow);
    }
}
