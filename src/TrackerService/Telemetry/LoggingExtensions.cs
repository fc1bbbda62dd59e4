using Serilog;
using Serilog.Events;

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

    /// <summary>A successful request slower than this is logged at Information even where quick ones are not.</summary>
    private static readonly TimeSpan SlowRequest = TimeSpan.FromSeconds(1);

    /// <summary>
    /// One log line per request (not per event), written through the host's logger, not the bootstrap one, at a
    /// level that says how it went: Error for a server failure, Warning for a refused request (4xx, 503),
    /// Information for a slow one, Debug for the rest.
    /// </summary>
    /// <remarks>
    /// A line per accepted request costs this service a large share of its single-event throughput (a console
    /// write per request; docs/performance.md), so at the default Information level the quick successful ones
    /// are not written. <c>Serilog:MinimumLevel:Override:Serilog.AspNetCore.RequestLoggingMiddleware=Debug</c>
    /// shows them all, as Development does.
    /// </remarks>
    public static WebApplication UseTrackerRequestLogging(this WebApplication app)
    {
        var logger = app.Services.GetService<Serilog.ILogger>();
        app.UseSerilogRequestLogging(options =>
        {
            options.Logger = logger;
            options.GetLevel = static (context, elapsedMs, exception) => RequestLevel(context.Response.StatusCode, elapsedMs, exception);

            // A refused request's line says why (the problem's title and first error), not only its status.
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0000} ms{Refusal:l}";
            options.GetMessageTemplateProperties = static (context, path, elapsedMs, status) =>
            [
                new LogEventProperty("RequestMethod", new ScalarValue(context.Request.Method)),
                new LogEventProperty("RequestPath", new ScalarValue(path)),
                new LogEventProperty("StatusCode", new ScalarValue(status)),
                new LogEventProperty("Elapsed", new ScalarValue(elapsedMs)),
                new LogEventProperty("Refusal", new ScalarValue(status >= 400 ? RequestRefusal.Describe(context) : "")),
            ];
        });
        return app;
    }

    internal static LogEventLevel RequestLevel(int status, double elapsedMs, Exception? exception) =>
        exception is not null || (status >= 500 && status != StatusCodes.Status503ServiceUnavailable) ? LogEventLevel.Error
        : status >= 400 ? LogEventLevel.Warning
        : elapsedMs >= SlowRequest.TotalMilliseconds ? LogEventLevel.Information
        : LogEventLevel.Debug;
}

/// <summary>Why a request was refused, kept on the request for its log line (<see cref="LoggingExtensions.UseTrackerRequestLogging"/>).</summary>
internal static class RequestRefusal
{
    private static readonly object Key = new();

    /// <summary>Called where a request is refused, with the problem's title and its detail or first error.</summary>
    public static void Set(HttpContext context, string title, string? why) => context.Items[Key] = why is null ? title : $"{title}: {why}";

    /// <summary>": title: why" for the log line, or nothing when the refusal was not described.</summary>
    public static string Describe(HttpContext context) => context.Items.TryGetValue(Key, out var why) ? $": {why}" : "";
}
