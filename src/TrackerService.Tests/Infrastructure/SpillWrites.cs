using TrackerService.Events;
using TrackerService.Spill;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Spilling for a test's set-up, through the shutdown's own path (<see cref="SpillStore.KeepAsync"/>).</summary>
internal static class SpillWrites
{
    /// <summary>Writes every event to the spill, whatever its size cap; fails the test if the disk did not take them all.</summary>
    public static async Task WriteAsync(this SpillStore store, IReadOnlyList<TrackedEvent> events)
    {
        var kept = await store.KeepAsync(events, CancellationToken.None);
        Assert.True(kept.Events == events.Count, $"the spill kept {kept.Events} of {events.Count} events: {kept.LastError}");
    }
}
