using Microsoft.Extensions.Options;
using TrackerService.Api;
using TrackerService.Options;
using TrackerService.Pipeline;
using TrackerService.Sinks;
using TrackerService.Spill;

namespace TrackerService.Hosting;

/// <summary>
/// Settings rules that span sections, checked at start beside each section's own: they belong here, in the
/// composition root, because only it sees every part.
/// </summary>
internal static class CrossSectionRules
{
    public static IServiceCollection AddCrossSectionRules(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<QueueOptions>, QueueHoldsTheLargestRequest>();
        services.AddSingleton<IValidateOptions<SinkOptions>, SinkHasItsConnectionString>();

        // Replay's bound on a line: 8 times the largest event (the older format's escapes) plus the server's fields.
        services.AddOptions<SpillOptions>().PostConfigure<IOptions<ApiOptions>>((spill, api) =>
            spill.MaxLineBytes = (int)Math.Min(int.MaxValue, (8L * api.Value.MaxEventBytes) + 4096));
        return services;
    }

    /// <summary>
    /// A request larger than the whole queue could never be admitted. By bytes, a request of the largest body takes up
    /// to about twice its size in memory (its strings as UTF-16): the byte bound holds at least that, so such a request
    /// fits beside what consumers hold, not only into an empty queue.
    /// </summary>
    private sealed class QueueHoldsTheLargestRequest(IOptions<ApiOptions> api) : IValidateOptions<QueueOptions>
    {
        public ValidateOptionsResult Validate(string? name, QueueOptions options)
        {
            var check = new OptionsCheck(QueueOptions.Section);
            var largest = api.Value.MaxBatchEvents;

            // Below 1 the queue's own range check has said it already.
            if (options.Capacity >= 1 && options.Capacity < largest)
            {
                check.Fail(nameof(options.Capacity), options.Capacity,
                    $"must be at least {ApiOptions.Section}:{nameof(ApiOptions.MaxBatchEvents)} ({largest})");
            }

            var largestBody = 2L * api.Value.MaxBodyBytes;
            if (options.MaxBytes < largestBody)
            {
                check.Fail(nameof(options.MaxBytes), options.MaxBytes,
                    $"must be at least twice {ApiOptions.Section}:{nameof(ApiOptions.MaxBodyBytes)} ({largestBody})");
            }

            return check.Result();
        }
    }

    private sealed class SinkHasItsConnectionString(IConfiguration configuration) : IValidateOptions<SinkOptions>
    {
        public ValidateOptionsResult Validate(string? name, SinkOptions options)
        {
            var check = new OptionsCheck(SinkOptions.Section);
            if (options.Kind == SinkKind.JetStream && RoleOptions.Of(configuration) == TrackerRole.Loader)
            {
                check.Fail(nameof(options.Kind), options.Kind.ToString(),
                    $"must be {SinkKind.Sqlite} or {SinkKind.Postgres} for a loader (Tracker:Role={TrackerRole.Loader}), which writes the stream to a database");
            }

            if (options.Kind == SinkKind.Postgres && string.IsNullOrWhiteSpace(configuration.GetConnectionString(SinkOptions.PostgresConnectionString)))
            {
                check.Fail(nameof(options.Kind), options.Kind.ToString(),
                    $"needs ConnectionStrings:{SinkOptions.PostgresConnectionString} (ConnectionStrings__{SinkOptions.PostgresConnectionString}), which is not set");
            }

            return check.Result();
        }
    }
}
