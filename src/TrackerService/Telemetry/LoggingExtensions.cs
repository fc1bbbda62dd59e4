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

    /// <summary>One log line per request (not per event), written through the host's logger, not the bootstrap one.</summary>
    public static WebApplication UseTrackerRequestLogging(this WebApplication app)
    {
        var logger = app.Services.GetService<Serilog.ILogger>();
        app.UseSerilogRequestLogging(options => options.Logger = logger);
        return app;
    }
}
