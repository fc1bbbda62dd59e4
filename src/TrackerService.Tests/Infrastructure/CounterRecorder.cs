using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Records what one counter of one meter factory counts, as "count tag=value,…" per measurement.</summary>
internal sealed class CounterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<string> _measurements = new();

    /// <param name="name">The counter, e.g. <c>tracker.events.rejected</c>.</param>
    public CounterRecorder(IMeterFactory meters, string name)
    {
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name == name)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            _measurements.Enqueue($"{value} {string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}"))}".TrimEnd()));
        _listener.Start();
    }

    /// <summary>Every measurement so far, in order.</summary>
    public IReadOnlyList<string> Measurements => [.. _measurements];

    public void Dispose() => _listener.Dispose();
}
