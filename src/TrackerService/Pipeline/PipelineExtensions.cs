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
        services.AddTrackerOptions<DurabilityOptions, DurabilityOptionsValidator>(DurabilityOptions.Section)
            .Configure<IConfiguration>((options, configuration) =>
            {
                // Tracker:Durability=Disk: the section's own value is the mode (its Mode key works too).
                if (configuration[DurabilityOptions.Section] is { Length: > 0 } mode)
                {
                    if (Enum.TryParse<DurabilityMode>(mode, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
                    {
                        options.Mode = parsed;
                    }
                    else
                    {
                        options.UnknownMode = mode;
                    }
                }
            });
        services.AddSingleton<EventQueue>();
        services.AddSingleton<DurableIntake>();
        services.AddSingleton<DeliveryService>();
        return services;
    }
}
