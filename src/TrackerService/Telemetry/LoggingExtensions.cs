using Serilog;

namespace TrackerService.Telemetry;

internal static class LoggingExtensions
{
    /// <summary>Serilog as the logging provider, configured from the <c>Serilog</c> section of appsettings.</summary>
    /// <remarks>
    /// The host gets a logger of its own and the static bootstrap logger is left alone for start-up
    /// failures: several hosts in one process (test hosts) would otherwise fight over freezing it.
    /// </remarks>
    public static WebApplicationBuilder AddTrackerLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog(
            (services, logger) => logger
                .ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext(),
            preserveStaticLogger: true);
        return builder;
    }
}
