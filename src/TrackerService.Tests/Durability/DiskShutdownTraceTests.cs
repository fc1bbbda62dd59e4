using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;
using TrackerService.Sinks;
using TrackerService.Telemetry;
using TrackerService.Tests.Infrastructure;
using TrackerService.Tests.Telemetry;

namespace TrackerService.Tests.Durability;

/// <summary>In Disk mode the shutdown spills nothing, and its span says what the write-ahead log keeps for the next start.</summary>
[Collection(RunsAlone.Name)] // the service's ActivitySource is process-wide (see TrackerTelemetryTests)
public sealed class DiskShutdownTraceTests
{
    private readonly ConcurrentQueue<Activity> _spans = new();

    [Fact]
    public async Task TheShutdownSpanSaysWhatTheLogHoldsAndNothingIsSpilled()
    {
        // Given Disk mode, a store that never answers, a 1 s budget and two requests of 3 and 2 events accepted
        var sink = new FakeSink().HoldingWrites();
        using var app = new TrackerApplication(
            new Dictionary<string, string?>
            {
                [OpenTelemetryExtensions.TracingSetting] = "true",
                ["Tracker:Durability"] = "Disk",
                ["Tracker:Shutdown:Timeout"] = "00:00:01",
            },
            services =>
            {
                services.AddSingleton<IEventSink>(sink);
                services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(new SpanCollection(_spans)));
            });
        using var client = app.CreateClient();
        (await client.PostAsync("/events", Bodies.Json(Bodies.Batch(3, "first")))).EnsureSuccessStatusCode();
        (await client.PostAsync("/events", Bodies.Json(Bodies.Batch(2, "second")))).EnsureSuccessStatusCode();
        await sink.FirstWrite.WaitAsync(Patience.Default);

        // When the service is stopped
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStopped.Register(stopped.SetResult);
        lifetime.StopApplication();
        await stopped.Task.WaitAsync(Patience.Default);

        // Then its span says the 5 events and their 2 records stay in the log, with its bytes, and none was spilled
        var shutdown = Assert.Single(_spans, s => s.OperationName == TrackerTelemetry.SpanShutdown);
        Assert.Equal(5, shutdown.GetTagItem(TrackerTelemetry.TagShutdownLeftInLog));
        Assert.Equal(2, shutdown.GetTagItem(TrackerTelemetry.TagShutdownLogRecords));
        Assert.True((long)shutdown.GetTagItem(TrackerTelemetry.TagShutdownLogBytes)! > 5 * 50, "the log holds the events' lines");
        Assert.Equal(0, shutdown.GetTagItem(TrackerTelemetry.TagShutdownSpilled));
        Assert.Equal(0, shutdown.GetTagItem(TrackerTelemetry.TagShutdownLost));
        Assert.False(Directory.Exists(Path.Combine(app.Folder, "data", "spill")) && Directory.EnumerateFiles(Path.Combine(app.Folder, "data", "spill")).Any());
    }
}
