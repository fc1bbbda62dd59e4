using System.Diagnostics;
using TrackerService.Events;

namespace TrackerService.Pipeline;

/// <summary>
/// The events one consumer writes in one go, and where they came from: a link to each request span whose
/// events are in the batch, for the batch's span.
/// </summary>
internal sealed class DeliveryBatch(int capacity)
{
    /// <summary>
    /// Most links kept per batch: OpenTelemetry's default span link limit. A batch of single-event requests
    /// may come from a thousand requests; <see cref="Requests"/> still counts them all.
    /// </summary>
    public const int MaxLinks = 128;

    public List<TrackedEvent> Events { get; } = new(capacity);

    /// <summary>The receipts of the requests whose events are in the batch, with how many of each.</summary>
    private readonly List<(DeliveryReceipt Receipt, int Events)> _receipts = [];

    /// <summary>The request spans whose events are in the batch, at most <see cref="MaxLinks"/>.</summary>
    public List<ActivityLink> Links { get; } = [];

    /// <summary>How many requests' events (whole or in part) are in the batch.</summary>
    public int Requests { get; private set; }

    public int Count => Events.Count;

    /// <summary>What the batch's events take in memory: the room the consumer gives back to the queue once they are stored or spilled.</summary>
    public long Bytes { get; private set; }

    /// <summary>Adds events, counting their bytes.</summary>
    public void Add(ReadOnlySpan<TrackedEvent> events)
    {
        Events.AddRange(events);
        Bytes += EventQueue.SizeOf(events);
    }

    /// <summary>Records that <paramref name="events"/> of a request with a receipt are being added to the batch.</summary>
    public void AddReceipt(DeliveryReceipt? receipt, int events)
    {
        if (receipt is not null)
        {
            _receipts.Add((receipt, events));
        }
    }

    /// <summary>Tells the receipts of the batch's requests that its events are delivered (stored or spilled).</summary>
    public void Delivered()
    {
        foreach (var (receipt, events) in _receipts)
        {
            receipt.Delivered(events);
        }

        _receipts.Clear();
    }

    /// <summary>Records that events of the request with this span are being added to the batch.</summary>
    public void AddOrigin(ActivityContext origin)
    {
        Requests++;
        if (origin != default && Links.Count < MaxLinks)
        {
            Links.Add(new ActivityLink(origin));
        }
    }

    public void Clear()
    {
        Events.Clear();
        Links.Clear();
        _receipts.Clear();
        Requests = 0;
        Bytes = 0;
    }
}
