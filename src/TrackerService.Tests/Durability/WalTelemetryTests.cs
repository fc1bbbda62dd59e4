using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TrackerService.Durability;
using TrackerService.Telemetry;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Durability;

/// <summary>What the log tells the meter: commits (appends per sync), the log's size, and what recovery found.</summary>
public sealed class WalTelemetryTests : IDisposable
{
    private readonly WalFolder _folder = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly IMeterFactory _meters;
    private readonly TrackerTelemetry _telemetry;

    public WalTelemetryTests()
    {
        _meters = _services.GetRequiredService<IMeterFactory>();
        _telemetry = new TrackerTelemetry(_meters);
    }

    [Fact]
    public async Task CommitsSizeAndRecoveryAreMeasured()
    {
        var appendsPerSync = new ConcurrentQueue<int>();
        var gauges = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == _meters && instrument.Name.StartsWith("tracker.wal.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((i, v, _, _) =>
        {
            if (i.Name == "tracker.wal.commit.appends")
            {
                appendsPerSync.Enqueue(v);
            }
            else
            {
                gauges[i.Name] = v;
            }
        });
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => gauges[i.Name] = v);
        listener.Start();
        using var setAside = new CounterRecorder(_meters, "tracker.wal.set_aside");
        using var recovered = new CounterRecorder(_meters, "tracker.wal.recovered");

        await using (var log = await OpenAsync())
        {
            await Task.WhenAll(Enumerable.Range(0, 3).Select(i => log.AppendAsync(new byte[] { (byte)i }, CancellationToken.None).AsTask()));
            listener.RecordObservableInstruments();
            Assert.Equal(3, appendsPerSync.Sum());
            Assert.Equal(log.Bytes, gauges["tracker.wal.bytes"]);
            Assert.Equal(1, gauges["tracker.wal.segments"]);
        }

        var segment = Path.Combine(_folder.Path, _folder.Segments()[0]);
        await using (var tail = new FileStream(segment, FileMode.Append))
        {
            tail.WriteByte(7);
        }

        await using (await OpenAsync())
        {
            Assert.Equal(["3", "1 reason=torn"], [.. recovered.Measurements, .. setAside.Measurements]);
        }
    }

    public void Dispose()
    {
        _telemetry.Dispose();
        _services.Dispose();
        _folder.Dispose();
    }

    private Task<WriteAheadLog> OpenAsync() => WriteAheadLog.OpenAsync(_folder.Options(), NullLogger.Instance, _telemetry, CancellationToken.None);
}
