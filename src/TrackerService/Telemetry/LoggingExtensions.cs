using Serilog;

namespace TrackerService.Telemetry;

internal static class LoggingExtensions
{
    /// <summary>Serilog as the logging provider, configured from the <c>Serilog</c> section of appsettings.</summary>
    public static WebApplicationBuilder AddTrackerLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext());
        return builder;
    }
}
