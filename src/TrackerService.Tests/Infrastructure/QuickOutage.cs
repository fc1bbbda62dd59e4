namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// The store's resilience settings for a test of an outage: one retry 50 ms after the first failure, and a circuit
/// that opens after two failed writes and lets a probe through after a second, so an outage shows in a second or two.
/// </summary>
internal static class QuickOutage
{
    /// <summary><paramref name="settings"/> with the quick outage settings added (a test's own value for a key wins).</summary>
    public static Dictionary<string, string?> With(Dictionary<string, string?> settings)
    {
        settings.TryAdd("Tracker:Sink:MaxRetryAttempts", "1");
        settings.TryAdd("Tracker:Sink:RetryBaseDelay", "00:00:00.050");
        settings.TryAdd("Tracker:Sink:CircuitMinimumThroughput", "2");
        settings.TryAdd("Tracker:Sink:CircuitBreakDuration", "00:00:01");
        return settings;
    }
}
