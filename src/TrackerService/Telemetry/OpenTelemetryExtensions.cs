using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace TrackerService.Telemetry;

internal static class OpenTelemetryExtensions
{
    /// <summary>
    /// Traces and metrics: ASP.NET Core's and the service's own. They are exported over OTLP when the standard
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (protocol, headers and resource from the other <c>OTEL_*</c>
    /// variables). The providers flush when the host is disposed, after the shutdown span has ended, so the
    /// <c>tracker.shutdown</c> span leaves the process before it exits.
    /// </summary>
    public static WebApplicationBuilder AddTrackerTelemetry(this WebApplicationBuilder builder)
    {
        var otel = builder.Services.AddOpenTelemetry()
            // The service's own name and version, unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise:
            // resources added later win, so the environment is read again after AddService.
            .ConfigureResource(resource => resource
                .AddService(
                    serviceName: TrackerTelemetry.Name,
                    serviceVersion: typeof(TrackerTelemetry).Assembly.GetName().Version?.ToString(3))
                .AddEnvironmentVariableDetector())
            .WithTracing(tracing => tracing
                .AddSource(TrackerTelemetry.Name)
                .AddAspNetCoreInstrumentation())
            .WithMetrics(metrics => metrics
                .AddMeter(TrackerTelemetry.Name)
                .AddMeter("Polly") // resilience.polly.strategy.events: retries, circuit opened/closed
                .AddMeter("System.Runtime") // the runtime's own: GC, heap, thread pool, exceptions (.NET 9+)
                .AddAspNetCoreInstrumentation()
                .AddPrometheusExporter()); // scraped at /metrics on the admin listener

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }

        return builder;
    }
}
