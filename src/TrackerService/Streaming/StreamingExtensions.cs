using TrackerService.Options;

namespace TrackerService.Streaming;

/// <summary>The stream's part of the wiring: its settings and the process's one connection, for the JetStream sink and the loader.</summary>
internal static class StreamingExtensions
{
    /// <remarks>Called by each part that uses the stream (the JetStream sink, the loader); only the first call registers.</remarks>
    public static IServiceCollection AddJetStream(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(JetStreamConnection)))
        {
            return services;
        }

        services.AddTrackerOptions<JetStreamOptions, JetStreamOptionsValidator>(JetStreamOptions.Section);
        services.AddSingleton<JetStreamConnection>();
        return services;
    }
}
