using System.Text.RegularExpressions;
using TrackerService.Lifecycle;

namespace TrackerService.Tests.Deployment;

/// <summary>
/// <c>docker-compose.yml</c> as Docker Compose itself reads it (<see cref="Compose"/>): the three services, the tracker
/// waiting for a healthy PostgreSQL, and a grace period above the shutdown budget.
/// </summary>
public sealed partial class ComposeFileTests
{
    [SkippableFact]
    public async Task NamesTheThreeServicesAndLetsTheTrackerStopWithinItsGracePeriod()
    {
        // Given the repository's compose file, validated and normalised by Docker Compose
        var (config, services) = await Compose.ConfigAsync("docker-compose.yml");

        // Then it names exactly the three services
        Assert.Equal(["jaeger", "postgres", "tracker"], services);

        // And the tracker starts after PostgreSQL is healthy, PostgreSQL has a health check, the tracker has its
        // own data volume, and Docker waits longer than the shutdown's budget before it kills the process
        var tracker = Compose.Service(config, "tracker");
        Assert.Matches(@"depends_on:\s+(?:[\s\S]*?)postgres:\s+condition: service_healthy", tracker);
        Assert.Contains("healthcheck:", Compose.Service(config, "postgres"), StringComparison.Ordinal);
        Assert.Contains(":/app/data", tracker, StringComparison.Ordinal);
        AssertGracePeriodAboveShutdownBudget(tracker);
    }

    /// <summary>Docker's <c>stop_grace_period</c> of a service is above <c>Tracker:Shutdown:Timeout</c>'s default.</summary>
    internal static void AssertGracePeriodAboveShutdownBudget(string service)
    {
        var grace = GracePeriod().Match(service);
        Assert.True(grace.Success, $"stop_grace_period in:\n{service}");
        var seconds = int.Parse(grace.Groups["m"].ValueOr("0"), System.Globalization.CultureInfo.InvariantCulture) * 60
            + int.Parse(grace.Groups["s"].ValueOr("0"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(TimeSpan.FromSeconds(seconds) > new ShutdownOptions().Timeout,
            $"stop_grace_period {seconds} s must be above Tracker:Shutdown:Timeout {new ShutdownOptions().Timeout}");
    }

    [GeneratedRegex(@"stop_grace_period: (?:(?<m>\d+)m)?(?:(?<s>\d+)s)?")]
    private static partial Regex GracePeriod();
}

internal static class GroupExtensions
{
    public static string ValueOr(this Group group, string fallback) => group.Success ? group.Value : fallback;
}
