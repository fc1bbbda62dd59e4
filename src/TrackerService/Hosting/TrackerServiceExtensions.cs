using TrackerService.Api;
using TrackerService.Auth;
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

    /// <summary>
    /// Every part, in the order an event travels through them, then the hosted services in their start order; for
    /// <c>Tracker:Role=Loader</c>, the loader's instead (<see cref="LoaderRole"/>).
    /// </summary>
    public static WebApplicationBuilder AddTracker(this WebApplicationBuilder builder)
    {
        UseDefaultUrlWhenNoneIsConfigured(builder);
        builder.AddKestrelLimits();
        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<TrackerTelemetry>();
        RoleOptions.Add(services);
        if (RoleOptions.Of(builder.Configuration) == TrackerRole.Loader)
        {
            return builder.AddLoaderRole();
        }

        services.AddIntakeAccess(); // write keys, their limits and origins; the proxies believed about the client
        services.AddEventsApi();
        services.AddPipeline();
        services.AddEventSink(onCircuitClosed: sp => sp.GetRequiredService<ReplaySignal>().Wake); // the store is back: replay now
        services.AddSpill();
        services.AddSingleton<IEventContract, IntakeEventContract>(); // replay holds spilled lines to the intake's rules
        services.AddLifecycle();
        services.AddSingleton<ShutdownCoordinator>(); // the intake's shutdown (the loader has its own)
        services.AddCrossSectionRules();

        // Ready while the process takes events, whatever the store's state (an open circuit only degrades it).
        services.AddHealthChecks()
            .AddCheck<ReadinessHealthCheck>("lifecycle", tags: [ReadinessHealthCheck.Tag])
            .AddCheck<SinkHealthCheck>("sink", tags: [ReadinessHealthCheck.Tag])
            .AddCheck<SpillHealthCheck>("spill", tags: [ReadinessHealthCheck.Tag]); // not ready when events can go nowhere

        // Hosted services start in this order, before the web server, and stop in reverse, after it: the admin
        // listener is up before anything else and answers until the very end; the consumers run before replay
        // competes with them for the store; the coordinator's StoppingAsync runs the shutdown before any of them stops.
        services.AddHostedService(sp => sp.GetRequiredService<AdminListener>());
        services.AddHostedService(sp => sp.GetRequiredService<DurableIntake>()); // the log opens before the consumers and closes after them
        services.AddHostedService(sp => sp.GetRequiredService<DeliveryService>());
        services.AddHostedService(sp => sp.GetRequiredService<SpillReplayService>());
        services.AddHostedService(sp => sp.GetRequiredService<ShutdownCoordinator>());
        return builder;
    }

    /// <summary>The problem-details answers, the public endpoints, and the start-up line once they are served.</summary>
    public static WebApplication MapTrackerEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        if (RoleOptions.Of(app.Configuration) == TrackerRole.Loader)
        {
            return app.MapLoaderEndpoints();
        }

        app.UseIntakeAccess(); // forwarded headers, then CORS (the Segment API's group asks for AuthExtensions.CorsPolicy)
        app.UseEventsApi();
        StartupReport.WriteWhenStarted(app);
        return app;
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
