using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using TrackerService.Api;
using TrackerService.Lifecycle;
using TrackerService.Pipeline;
using TrackerService.Sinks;
using TrackerService.Spill;

namespace TrackerService.Hosting;

/// <summary>One line, once everything has started: what is running, where, and with which limits.</summary>
internal sealed partial class StartupReport(
    IServer server,
    AdminListener admin,
    IOptions<SinkOptions> sink,
    IOptions<ApiOptions> api,
    IOptions<QueueOptions> queue,
    IOptions<DeliveryOptions> delivery,
    IOptions<ShutdownOptions> shutdown,
    IOptions<KestrelLimits.Settings> connections,
    SpillStore spill,
    ILogger<StartupReport> logger)
{
    /// <summary>Writes the line when the application has started (every hosted service and the web server are up).</summary>
    public static void WriteWhenStarted(WebApplication app) =>
        app.Lifetime.ApplicationStarted.Register(() => ActivatorUtilities.CreateInstance<StartupReport>(app.Services).Write());

    private void Write()
    {
        var listeners = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var version = typeof(StartupReport).Assembly.GetName().Version?.ToString(3) ?? "?";
        LogStarted(logger, version, listeners, admin.Addresses,
            sink.Value.Kind, spill.Folder, api.Value.MaxBodyBytes, api.Value.MaxBatchEvents, queue.Value.Capacity,
            queue.Value.EnqueueTimeout.TotalMilliseconds, delivery.Value.Consumers, delivery.Value.BatchSize,
            shutdown.Value.Timeout.TotalMilliseconds, connections.Value.MaxConcurrentConnections,
            connections.Value.KeepAliveTimeout.TotalSeconds, connections.Value.RequestHeadersTimeout.TotalSeconds);
    }

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message =
        "TrackerService {Version:l} started: api {Listeners}, admin {AdminListeners}, sink {Sink}, spill {SpillFolder:l}; " +
        "limits: body {MaxBodyBytes} B, batch {MaxBatchEvents} events, queue {QueueCapacity} events, enqueue timeout {EnqueueTimeoutMs} ms, " +
        "{Consumers} consumers x {BatchSize} events, shutdown timeout {ShutdownTimeoutMs} ms; " +
        "connections {MaxConcurrentConnections}, keep-alive {KeepAliveTimeoutS} s, header timeout {RequestHeadersTimeoutS} s")]
    private static partial void LogStarted(ILogger logger, string version, ICollection<string> listeners, IReadOnlyCollection<string> adminListeners,
        SinkKind sink, string spillFolder, int maxBodyBytes, int maxBatchEvents, int queueCapacity, double enqueueTimeoutMs,
        int consumers, int batchSize, double shutdownTimeoutMs, int? maxConcurrentConnections, double keepAliveTimeoutS, double requestHeadersTimeoutS);
}
