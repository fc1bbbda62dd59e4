using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Spill;

/// <summary>The spill's part of the wiring: the local segments and their replay.</summary>
internal static class SpillExtensions
{
    /// <remarks><see cref="SpillReplayService"/> is registered as itself; the composition root makes it a hosted service, in its place in the start order.</remarks>
    public static IServiceCollection AddSpill(this IServiceCollection services)
    {
        services.AddTrackerOptions<SpillOptions, SpillOptionsValidator>(SpillOptions.Section);
        services.AddSingleton<IValidateOptions<SpillOptions>, SpillFolderCheck>(); // at start: the folder can be written
        services.AddSingleton<SpillStore>();
        services.AddSingleton<ReplaySignal>();
        services.AddSingleton<SpillReplayService>();
        return services;
    }
}
