using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.CircuitBreaker;
using TrackerService.Api;
using TrackerService.Lifecycle;
using TrackerService.Pipeline;
using TrackerService.Sinks;
using TrackerService.Spill;
using TrackerService.Telemetry;

namespace TrackerService.Hosting;

/// <summary>The service's wiring: one <c>Add…</c> for the services and one <c>Map…</c> for the endpoints.</summary>
internal static class TrackerServiceExtensions
{
    /// <summary>Where the public API listens when no URL is configured (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, <c>ASPNETCORE_HTTP_PORTS</c>).</summary>
    public const string DefaultUrl = "http://localhost:8080";

    public static WebApplicationBuilder AddTracker(this WebApplicationBuilder builder)
    {
        UseDefaultUrlWhenNoneIsConfigured(builder);
        var services = builder.Services;
        services.AddProblemDetails();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<TrackerTelemetry>();
        services.AddSingleton<ComponentFailure>();

        services.AddOptionsWithValidateOnStart<ApiOptions, ApiOptionsValidator>().BindConfiguration(ApiOptions.Section);
        services.AddOptionsWithValidateOnStart<QueueOptions, QueueOptionsValidator>().BindConfiguration(QueueOptions.Section);
        services.AddOptionsWithValidateOnStart<DeliveryOptions, DeliveryOptionsValidator>().BindConfiguration(DeliveryOptions.Section);
        services.AddOptionsWithValidateOnStart<SinkOptions, SinkOptionsValidator>().BindConfiguration(SinkOptions.Section);
        services.AddOptionsWithValidateOnStart<AdminOptions, AdminOptionsValidator>().BindConfiguration(AdminOptions.Section);
        services.AddOptionsWithValidateOnStart<ShutdownOptions, ShutdownOptionsValidator>().BindConfiguration(ShutdownOptions.Section);
        services.AddOptionsWithValidateOnStart<SpillOptions, SpillOptionsValidator>().BindConfiguration(SpillOptions.Section);

        // The host must never cut the drain short: its own timeout sits above the shutdown budget,
        // which the coordinator enforces itself.
        services.AddOptions<HostOptions>().Configure<IOptions<ShutdownOptions>>((host, shutdown) =>
            host.ShutdownTimeout = shutdown.Value.Timeout + TimeSpan.FromSeconds(5));

        services.AddSingleton(sp => new EventBatchParser(sp.GetRequiredService<IOptions<ApiOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<EventQueue>();
        AddSink(builder);
        services.AddSingleton<SinkWriter>();
        services.AddSingleton<SpillStore>();
        services.AddSingleton<CircuitBreakerStateProvider>();
        services.AddSingleton<ReplaySignal>();
        services.AddResiliencePipeline(SinkResilience.PipelineName, (pipeline, context) => SinkResilience.Configure(
            pipeline,
            context.ServiceProvider.GetRequiredService<IOptions<SinkOptions>>().Value,
            context.ServiceProvider.GetRequiredService<IEventSink>().IsTransient,
            context.ServiceProvider.GetRequiredService<CircuitBreakerStateProvider>(),
            context.ServiceProvider.GetRequiredService<ReplaySignal>().Wake));

        services.AddHealthChecks()
            .AddCheck<ReadinessHealthCheck>("lifecycle", tags: [ReadinessHealthCheck.Tag])
            .AddCheck<SinkHealthCheck>("sink", tags: [ReadinessHealthCheck.Tag]);

        // Hosted services start in this order, before the web server, and stop in reverse, after it:
        // the admin listener is up before anything else and answers until the very end.
        AddHostedSingleton<AdminListener>(services);
        AddHostedSingleton<DeliveryService>(services);
        AddHostedSingleton<SpillReplayService>(services);
        services.AddHostedService<ShutdownCoordinator>();
        services.AddHostedService<StartupReport>();
        return builder;
    }

    public static WebApplication MapTrackerEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapEventsApi();
        return app;
    }

    /// <summary>The store named by <c>Tracker:Sink:Kind</c>.</summary>
    private static void AddSink(WebApplicationBuilder builder)
    {
        var kind = builder.Configuration.GetSection(SinkOptions.Section).Get<SinkOptions>()?.Kind ?? SinkKind.Sqlite;
        if (kind == SinkKind.Postgres)
        {
            var connectionString = builder.Configuration.GetConnectionString("Postgres");
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException("Tracker:Sink:Kind is 'Postgres' but ConnectionStrings:Postgres is not set.");
            }

            // Registered as an instance, so the container never disposes it: disposing waits on connections,
            // and a connection to a frozen server would hold the process past its shutdown deadline.
            builder.Services.AddSingleton(new NpgsqlDataSourceBuilder(connectionString).Build());
            builder.Services.AddSingleton<IEventSink, PostgresEventSink>();
        }
        else
        {
            builder.Services.AddSingleton<IEventSink, SqliteEventSink>();
        }
    }

    /// <summary>A hosted service that other components (and tests) can also resolve as itself.</summary>
    private static void AddHostedSingleton<T>(IServiceCollection services)
        where T : class, IHostedService
    {
        services.AddSingleton<T>();
        services.AddHostedService(sp => sp.GetRequiredService<T>());
    }

    private static void UseDefaultUrlWhenNoneIsConfigured(WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        if (config["urls"] is null && config["http_ports"] is null && config["https_ports"] is null
            && !config.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
    }
}
