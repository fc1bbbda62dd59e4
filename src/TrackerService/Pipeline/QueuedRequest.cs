using System.Diagnostics;
using TrackerService.Events;

namespace TrackerService.Pipeline;

/// <summary>One request's events on the queue, with the trace context of the request that sent them.</summary>
/// <param name="Origin">The request's span, for the batch spans that carry these events to link to; default when not traced.</param>
/// <param name="Receipt">Told as the events are delivered, when something waits for that (the write-ahead log); else null.</param>
internal readonly record struct QueuedRequest(TrackedEvent[] Events, ActivityContext Origin, DeliveryReceipt? Receipt = null);
