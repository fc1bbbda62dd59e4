using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Records what <c>tracker.events.rejected</c> counts on one meter factory, as "count reason=…" per measurement.</summary>
internal sealed class RejectedCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<string> _measurements = new();

    public RejectedCounter(IMeterFactory meters)
    {
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name == "tracker.events.rejected")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            _measurements.Enqueue($"{value} {string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}"))}"));
        _listener.Start();
    }

    /// <summary>Every measurement so far, in order.</summary>
    public IReadOnlyList<string> Measurements => [.. _measurements];

    public void Dispose() => _listener.Dispose();
}
