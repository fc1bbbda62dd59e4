using TrackerService.Options;
using TrackerService.Pipeline;
using TrackerService.Streaming;

namespace TrackerService.Loading;

/// <summary>The loader's part of the wiring: the stream's settings and connection, the loader and its readiness.</summary>
internal static class LoadingExtensions
{
    /// <remarks>
    /// <see cref="StreamLoader"/> is registered as itself; the composition root makes it a hosted service. It runs
    /// <c>Tracker:Delivery:Consumers</c> loops, the intake's setting for the loops that write batches to the store.
    /// </remarks>
    public static IServiceCollection AddLoading(this IServiceCollection services)
    {
        services.AddJetStream();
        services.AddTrackerOptions<DeliveryOptions, DeliveryOptionsValidator>(DeliveryOptions.Section);
        services.AddSingleton<StreamLoader>();
        services.AddSingleton<LoaderHealthCheck>();
        return services;
    }
}
