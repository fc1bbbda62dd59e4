using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Lifecycle;

/// <summary>The lifecycle's part of the wiring: the admin listener, readiness, the shutdown and what stops the host on a failure.</summary>
internal static class LifecycleExtensions
{
    /// <remarks>
    /// The admin listener is registered as itself; the composition root makes it a hosted service, in its place in the
    /// start order, and registers the intake's <see cref="ShutdownCoordinator"/> (a loader has a shutdown of its own).
    /// </remarks>
    public static IServiceCollection AddLifecycle(this IServiceCollection services)
    {
        services.AddTrackerOptions<AdminOptions, AdminOptionsValidator>(AdminOptions.Section);
        services.AddTrackerOptions<ShutdownOptions, ShutdownOptionsValidator>(ShutdownOptions.Section);
        services.AddSingleton<ComponentFailure>();
        services.AddSingleton<AdminListener>();

        // The host must never cut the drain short: its own timeout sits above the shutdown budget, which the
        // coordinator enforces itself.
        services.AddOptions<HostOptions>().Configure<IOptions<ShutdownOptions>>((host, shutdown) =>
            host.ShutdownTimeout = shutdown.Value.Timeout + TimeSpan.FromSeconds(5));
        return services;
    }
}
