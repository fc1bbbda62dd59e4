using Microsoft.Extensions.Options;
using TrackerService.Lifecycle;
using TrackerService.Loading;
using TrackerService.Sinks;
using TrackerService.Streaming;

namespace TrackerService.Hosting;

/// <summary>
/// The wiring of <c>Tracker:Role=Loader</c>: the store (<c>Tracker:Sink:Kind</c>, SQLite or PostgreSQL) behind the
/// resilience pipeline, the loader, the admin listener (health, metrics) and the shutdown's watchdog. No intake: no
/// queue, spill, write keys or event endpoints. The public listener stays (the host's), and answers every path 404 with
/// problem details, so a client sent to a loader by mistake is told so rather than hanging.
/// </summary>
internal static partial class LoaderRole
{
    public static WebApplicationBuilder AddLoaderRole(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddProblemDetails();

        // Nothing to wake when the circuit closes: the loader's next write is the circuit's probe.
        services.AddEventSink(onCircuitClosed: _ => static () => { });
        services.AddLoading();
        services.AddLifecycle();
        services.AddCrossSectionRules();
        services.AddHealthChecks().AddCheck<LoaderHealthCheck>("loader", tags: [ReadinessHealthCheck.Tag]);

        // The admin listener starts first and stops last; the loader's StoppingAsync runs its shutdown.
        services.AddHostedService(sp => sp.GetRequiredService<AdminListener>());
        services.AddHostedService(sp => sp.GetRequiredService<StreamLoader>());
        return builder;
    }

    /// <summary>No endpoints (every path is a 404 problem); the start-up line once the loader is bound.</summary>
    public static WebApplication MapLoaderEndpoints(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var services = app.Services;
            var stream = services.GetRequiredService<IOptions<JetStreamOptions>>().Value;
            var version = typeof(LoaderRole).Assembly.GetName().Version?.ToString(3) ?? "?";
            var admin = services.GetRequiredService<AdminListener>().Addresses;
            var sink = services.GetRequiredService<IOptions<SinkOptions>>().Value.Kind;
            var timeout = services.GetRequiredService<IOptions<ShutdownOptions>>().Value.Timeout;
            var logger = services.GetRequiredService<ILogger<StreamLoader>>();
            LogStarted(logger, version, admin, sink,
                stream.Url, stream.Stream, stream.Consumer, stream.FetchBatch, stream.FetchExpires, stream.AckWait, timeout.TotalMilliseconds);
        });
        return app;
    }

    [LoggerMessage(EventId = 857, Level = LogLevel.Information, Message =
        "TrackerService {Version:l} started as a loader: admin {AdminListeners}, store {Sink}, NATS {Url:l}, stream {Stream:l}, consumer {Consumer:l}; " +
        "fetch up to {FetchBatch} messages or {FetchExpires}, ack wait {AckWait}, shutdown timeout {ShutdownTimeoutMs} ms")]
    private static partial void LogStarted(ILogger logger, string version, IReadOnlyCollection<string> adminListeners, SinkKind sink, string url,
        string stream, string consumer, int fetchBatch, TimeSpan fetchExpires, TimeSpan ackWait, double shutdownTimeoutMs);
}
