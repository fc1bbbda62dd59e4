using Microsoft.Data.Sqlite;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Lifecycle;

/// <summary>The shutdown is visible in traces: the span is exported over OTLP before the process exits.</summary>
public sealed class ShutdownTraceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-trace-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task ExportsTheShutdownSpanWithItsPhasesBeforeExiting()
    {
        // Given a service exporting to an OTLP/HTTP receiver, with events accepted
        using var receiver = new OtlpReceiver();
        await using var service = await ServiceProcess.StartAsync(_folder, new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        });
        (await service.Client.PostAsync("/events", Events.Json(Events.Batch(100, "traced")))).EnsureSuccessStatusCode();

        // When it is sent SIGTERM and has exited
        var (exitCode, _) = await service.TerminateAsync(TimeSpan.FromSeconds(30));

        // Then the receiver already holds the tracker.shutdown span, its phase events and its counts
        Assert.Equal(0, exitCode);
        string[] expected =
        [
            "tracker.shutdown", "readiness.off", "intake.stopped", "queue.completed", "drain.finished", "spill.written",
            "tracker.shutdown.queued_at_start", "tracker.shutdown.drained", "tracker.shutdown.spilled",
            "tracker.shutdown.elapsed_ms", "tracker.shutdown.deadline_ms",
        ];
        Assert.All(expected, name => Assert.True(receiver.Received("/v1/traces", name), $"'{name}' was not exported"));
    }
}
