using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using TrackerService.Telemetry;
using TrackerService.Tests.Infrastructure;
using TrackerService.Tests.Telemetry;

namespace TrackerService.Tests.Loading;

/// <summary>
/// An intake on the stream and a loader, both in process with spans recorded, read through OpenTelemetry's in-memory
/// exporter: the loader's batch spans link back to the intake's request spans through the messages' headers.
/// </summary>
[Collection(RunsAlone.Name)] // the service's ActivitySource is process-wide
public sealed class LoaderTelemetryTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly List<MetricSnapshot> _metrics = [];
    private NatsServer _server = null!;

    public async Task InitializeAsync() => _server = await NatsServer.StartAsync();

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task ALoadedBatchsSpanLinksToTheIntakeRequestsItsEventsCameWith()
    {
        // Given an intake publishing to the stream and a loader reading it, spans recorded
        using var intake = new TrackerApplication(new()
        {
            ["Tracker:Sink:Kind"] = "JetStream",
            ["Tracker:JetStream:Url"] = _server.Url,
            [OpenTelemetryExtensions.TracingSetting] = "true",
        });
        using var loader = new TrackerApplication(
            new() { ["Tracker:Role"] = "Loader", ["Tracker:JetStream:Url"] = _server.Url, [OpenTelemetryExtensions.TracingSetting] = "true" },
            s =>
            {
                s.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(new SpanCollection(_spans)));
                s.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInMemoryExporter(_metrics));
            });
        _ = loader.Services;
        using var client = intake.CreateClient();

        // When three requests of 2, 1 and 3 events are taken and loaded
        foreach (var (count, prefix) in new[] { (2, "first"), (1, "second"), (3, "third") })
        {
            (await client.PostAsync("/events", Bodies.Json(Bodies.Batch(count, prefix)))).EnsureSuccessStatusCode();
        }

        await loader.WaitForStoredAsync(6);
        await StreamWriting.WaitForAllAckedAsync(_server.Url);

        // Then the loader's batch spans (sink sqlite) carry the 6 events, stored, and link to the 3 request spans
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(Loaded().Sum(b => (int)b.GetTagItem(TrackerTelemetry.TagBatchSize)!) == 6), Patience.Default),
            "loader batch spans for 6 events");
        var requests = _spans.Where(s => s.Kind == ActivityKind.Server && s.DisplayName == "POST /events").Select(s => s.Context).ToArray();
        Assert.Equal(3, requests.Length);
        Assert.All(Loaded(), batch =>
        {
            Assert.Equal(TrackerTelemetry.OutcomeStored, batch.GetTagItem(TrackerTelemetry.TagBatchOutcome));
            Assert.Equal(ActivityKind.Consumer, batch.Kind);
            Assert.Equal(batch.Links.Count(), batch.GetTagItem(TrackerTelemetry.TagBatchRequests));
        });
        Assert.Equal(
            requests.Select(c => $"{c.TraceId}-{c.SpanId}").Order(StringComparer.Ordinal),
            Loaded().SelectMany(b => b.Links).Select(l => $"{l.Context.TraceId}-{l.Context.SpanId}").Distinct().Order(StringComparer.Ordinal));

        // And the loaded counter says 6
        loader.Services.GetRequiredService<MeterProvider>().ForceFlush(5000);
        Assert.Equal(6, LastSum("tracker.loader.loaded"));
    }

    private IEnumerable<Activity> Loaded() =>
        _spans.Where(s => s.OperationName == TrackerTelemetry.SpanBatch && (string?)s.GetTagItem(TrackerTelemetry.TagSink) == "sqlite");

    private long LastSum(string name)
    {
        lock (_metrics)
        {
            long sum = 0;
            foreach (var point in _metrics.LastOrDefault(m => m.Name == name)?.MetricPoints ?? [])
            {
                sum += point.GetSumLong();
            }

            return sum;
        }
    }
}
