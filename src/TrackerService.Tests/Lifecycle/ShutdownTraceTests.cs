using Microsoft.Data.Sqlite;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Lifecycle;

/// <summary>A run is visible in traces: its spans, the shutdown's last, are exported over OTLP before the process exits.</summary>
public sealed class ShutdownTraceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-trace-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task ExportsRequestBatchAndShutdownSpansBeforeExiting()
    {
        // Given a service exporting to an OTLP/HTTP receiver, with events accepted
        using var receiver = new OtlpReceiver();
        await using var service = await ServiceProcess.StartAsync(_folder, new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "tracker-under-test",
        });
        (await service.Client.PostAsync("/events", Bodies.Json(Bodies.Batch(100, "traced")))).EnsureSuccessStatusCode();

        // When it is sent SIGTERM and has exited
        var (exitCode, _) = await service.TerminateAsync(TimeSpan.FromSeconds(30));

        // Then the receiver already holds, under the service name from OTEL_SERVICE_NAME, the request's span, the
        // batch's, and the tracker.shutdown span with its phase events and counts
        Assert.Equal(0, exitCode);
        string[] expected =
        [
            "tracker-under-test", "POST /events", "tracker.batch", "tracker.sink", "sqlite", "tracker.batch.size", "tracker.batch.attempts",
            "tracker.batch.outcome", "stored",
            "tracker.shutdown", "readiness.off", "intake.stopped", "queue.completed", "drain.finished", "spill.written",
            "tracker.shutdown.queued_at_start", "tracker.shutdown.drained", "tracker.shutdown.spilled",
            "tracker.shutdown.elapsed_ms", "tracker.shutdown.deadline_ms",
        ];
        Assert.All(expected, name => Assert.True(receiver.Received("/v1/traces", name), $"'{name}' was not exported"));
    }
}
