using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.CircuitBreaker;
using TrackerService.Options;
using TrackerService.Streaming;

namespace TrackerService.Sinks;

/// <summary>The store's part of the wiring: the sink named by <see cref="SinkOptions.Kind"/>, behind the resilience pipeline.</summary>
internal static class SinkExtensions
{
    /// <param name="onCircuitClosed">What to do when the store is reachable again (the composition root wakes spill replay).</param>
    public static IServiceCollection AddEventSink(this IServiceCollection services, Func<IServiceProvider, Action> onCircuitClosed)
    {
        services.AddTrackerOptions<SinkOptions, SinkOptionsValidator>(SinkOptions.Section);
        services.AddJetStream(); // the stream's settings and connection, used only by the JetStream sink

        // Chosen from the validated options, when first needed: a bad Kind fails at start like every other setting.
        services.AddSingleton<IEventSink>(sp => sp.GetRequiredService<IOptions<SinkOptions>>().Value.Kind switch
        {
            SinkKind.Postgres => ActivatorUtilities.CreateInstance<PostgresEventSink>(sp, PostgresDataSource(sp)),
            SinkKind.JetStream => ActivatorUtilities.CreateInstance<JetStreamSink>(sp),
            _ => ActivatorUtilities.CreateInstance<SqliteEventSink>(sp),
        });
        services.AddSingleton<SinkWriter>();
        services.AddSingleton<CircuitBreakerStateProvider>();
        services.AddResiliencePipeline(SinkResilience.PipelineName, (pipeline, context) => SinkResilience.Configure(
            pipeline,
            context.ServiceProvider.GetRequiredService<IOptions<SinkOptions>>().Value,
            context.ServiceProvider.GetRequiredService<IEventSink>().IsTransient,
            context.ServiceProvider.GetRequiredService<CircuitBreakerStateProvider>(),
            onCircuitClosed(context.ServiceProvider)));
        return services;
    }

    /// <remarks>
    /// Not registered in the container, so it is never disposed: disposing waits on connections, and a connection
    /// to a frozen server would hold the process past its shutdown deadline. The connection string's presence is
    /// checked at start (a rule that spans sections, in the composition root).
    /// </remarks>
    private static NpgsqlDataSource PostgresDataSource(IServiceProvider services) =>
        new NpgsqlDataSourceBuilder(services.GetRequiredService<IConfiguration>().GetConnectionString(SinkOptions.PostgresConnectionString)).Build();
}
