using TrackerService.Options;

namespace TrackerService.Pipeline;

/// <summary>The pipeline's part of the wiring: the queue and the consumers that drain it.</summary>
internal static class PipelineExtensions
{
    /// <remarks><see cref="DeliveryService"/> is registered as itself; the composition root makes it a hosted service, in its place in the start order.</remarks>
    public static IServiceCollection AddPipeline(this IServiceCollection services)
    {
        services.AddTrackerOptions<QueueOptions, QueueOptionsValidator>(QueueOptions.Section);
        services.AddTrackerOptions<DeliveryOptions, DeliveryOptionsValidator>(DeliveryOptions.Section);
        services.AddSingleton<EventQueue>();
        services.AddSingleton<DeliveryService>();
        return services;
    }
}
