using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace TrackerService.Telemetry;

internal static class OpenTelemetryExtensions
{
    /// <summary>Whether spans are recorded (a boolean); by default, when an OTLP endpoint is set.</summary>
    public const string TracingSetting = "Tracker:Tracing";

    /// <summary>
    /// Traces and metrics: ASP.NET Core's and the service's own. They are exported over OTLP when the standard
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (protocol, headers and resource from the other <c>OTEL_*</c>
    /// variables). The shutdown coordinator flushes the tracer provider as soon as the <c>tracker.shutdown</c>
    /// span ends, within the budget: the watchdog may end the process before the providers are disposed.
    /// </summary>
    /// <remarks>
    /// Spans are recorded only when they have somewhere to go (<see cref="TracingSetting"/>): without a
    /// listener, ASP.NET Core creates no <see cref="System.Diagnostics.Activity"/> per request, which was a
    /// measurable share of the service's CPU time under single-event load (<c>dotnet-trace</c>, docs/performance.md).
    /// Metrics are always on: <c>/metrics</c> serves them.
    /// </remarks>
    public static WebApplicationBuilder AddTrackerTelemetry(this WebApplicationBuilder builder)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var tracing = builder.Configuration.GetValue<bool?>(TracingSetting) ?? otlp;
        var otel = builder.Services.AddOpenTelemetry()
            // The service's own name and version, unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise:
            // resources added later win, so the environment is read again after AddService.
            .ConfigureResource(resource => resource
                .AddService(
                    serviceName: TrackerTelemetry.Name,
                    serviceVersion: typeof(TrackerTelemetry).Assembly.GetName().Version?.ToString(3))
                .AddEnvironmentVariableDetector())
            .WithMetrics(metrics => metrics
                .AddMeter(TrackerTelemetry.Name)
                .AddMeter("Polly") // resilience.polly.strategy.events: retries, circuit opened/closed
                .AddMeter("System.Runtime") // the runtime's own: GC, heap, thread pool, exceptions (.NET 9+)
                .AddAspNetCoreInstrumentation()
                .AddPrometheusExporter()); // scraped at /metrics on the admin listener

        if (tracing)
        {
            otel.WithTracing(spans => spans
                .AddSource(TrackerTelemetry.Name)
                .AddAspNetCoreInstrumentation());
        }

        if (otlp)
        {
            otel.UseOtlpExporter();
        }

        return builder;
    }
}
