using System.Diagnostics;
using System.Text.RegularExpressions;
using TrackerService.Lifecycle;

namespace TrackerService.Tests.Deployment;

/// <summary>
/// <c>docker-compose.yml</c> as Docker Compose itself reads it (<c>config</c> validates and normalises the file):
/// the three services, the tracker waiting for a healthy PostgreSQL, and a grace period above the shutdown budget.
/// Skipped without a Compose tool, except under <c>CI=true</c> (<c>.ci/docker-up.sh</c> installs one).
/// </summary>
public sealed partial class ComposeFileTests
{
    [SkippableFact]
    public async Task NamesTheThreeServicesAndLetsTheTrackerStopWithinItsGracePeriod()
    {
        // Given the repository's compose file, read by Docker Compose
        var file = Path.Combine(RepositoryRoot(), "docker-compose.yml");
        var compose = await FindComposeAsync();
        var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        Skip.If(compose is null && !ci, "Neither 'docker compose' nor 'docker-compose' is installed.");
        Assert.True(compose is not null, "CI must have Docker Compose (.ci/docker-up.sh installs docker-compose)");

        // When it is validated and normalised
        var (services, servicesStatus) = await RunAsync(compose.Value.Program, [.. compose.Value.Prefix, "-f", file, "config", "--services"]);
        var (config, configStatus) = await RunAsync(compose.Value.Program, [.. compose.Value.Prefix, "-f", file, "config"]);

        // Then it is valid and names exactly the three services
        Assert.True(servicesStatus == 0, services);
        Assert.True(configStatus == 0, config);
        Assert.Equal(["jaeger", "postgres", "tracker"], services.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order());

        // And the tracker starts after PostgreSQL is healthy, PostgreSQL has a health check, the tracker has its
        // own data volume, and Docker waits longer than the shutdown's budget before it kills the process
        var tracker = Service(config, "tracker");
        Assert.Matches(@"depends_on:\s+(?:[\s\S]*?)postgres:\s+condition: service_healthy", tracker);
        Assert.Contains("healthcheck:", Service(config, "postgres"), StringComparison.Ordinal);
        Assert.Contains(":/app/data", tracker, StringComparison.Ordinal);
        var grace = GracePeriod().Match(tracker);
        Assert.True(grace.Success, $"stop_grace_period in:\n{tracker}");
        var seconds = int.Parse(grace.Groups["m"].ValueOr("0"), System.Globalization.CultureInfo.InvariantCulture) * 60
            + int.Parse(grace.Groups["s"].ValueOr("0"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(TimeSpan.FromSeconds(seconds) > new ShutdownOptions().Timeout,
            $"stop_grace_period {seconds} s must be above Tracker:Shutdown:Timeout {new ShutdownOptions().Timeout}");
    }

    /// <summary>The lines of one service in <c>config</c>'s output (services are indented two spaces, their keys four).</summary>
    private static string Service(string config, string name)
    {
        var match = Regex.Match(config, $@"^  {name}:\n((?:    .*\n|\s*\n)*)", RegexOptions.Multiline);
        Assert.True(match.Success, $"service {name} in:\n{config}");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"stop_grace_period: (?:(?<m>\d+)m)?(?:(?<s>\d+)s)?")]
    private static partial Regex GracePeriod();

    private static async Task<(string Program, string[] Prefix)?> FindComposeAsync()
    {
        foreach (var (program, prefix) in new[] { ("docker", new[] { "compose" }), ("docker-compose", Array.Empty<string>()) })
        {
            try
            {
                var (_, status) = await RunAsync(program, [.. prefix, "version"]);
                if (status == 0)
                {
                    return (program, prefix);
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not installed
            }
        }

        return null;
    }

    private static async Task<(string Output, int Status)> RunAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The password has a default in the file; set here so the result doesn't depend on the caller's environment.
        start.Environment["POSTGRES_PASSWORD"] = "compose-test";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (await output + await error, process.ExitCode);
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "docker-compose.yml")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No docker-compose.yml above {AppContext.BaseDirectory}");
    }
}

internal static class GroupExtensions
{
    public static string ValueOr(this Group group, string fallback) => group.Success ? group.Value : fallback;
}
