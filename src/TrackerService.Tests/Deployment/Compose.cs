using System.Diagnostics;
using System.Text.RegularExpressions;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Deployment;

/// <summary>
/// A repository compose file as Docker Compose itself reads it (<c>config</c> validates and normalises it), with the
/// plugin (<c>docker compose</c>) or the standalone tool (<c>docker-compose</c>). Skipped without either, except under
/// <c>CI=true</c> (<c>.ci/docker-up.sh</c> installs one).
/// </summary>
internal static class Compose
{
    /// <summary>The normalised file and its service names, sorted; the test fails when Compose refuses the file.</summary>
    public static async Task<(string Config, string[] Services)> ConfigAsync(string fileName)
    {
        var file = Path.Combine(Repository.Root, fileName);
        var compose = await FindAsync();
        var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        Skip.If(compose is null && !ci, "Neither 'docker compose' nor 'docker-compose' is installed.");
        Assert.True(compose is not null, "CI must have Docker Compose (.ci/docker-up.sh installs docker-compose)");

        var (services, servicesStatus) = await RunAsync(compose.Value.Program, [.. compose.Value.Prefix, "-f", file, "config", "--services"]);
        var (config, configStatus) = await RunAsync(compose.Value.Program, [.. compose.Value.Prefix, "-f", file, "config"]);
        Assert.True(servicesStatus == 0, services);
        Assert.True(configStatus == 0, config);
        return (config, [.. services.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal)]);
    }

    /// <summary>The lines of one service in <c>config</c>'s output (services are indented two spaces, their keys four).</summary>
    public static string Service(string config, string name)
    {
        var match = Regex.Match(config, $@"^  {Regex.Escape(name)}:\n((?:    .*\n|\s*\n)*)", RegexOptions.Multiline);
        Assert.True(match.Success, $"service {name} in:\n{config}");
        return match.Groups[1].Value;
    }

    private static async Task<(string Program, string[] Prefix)?> FindAsync()
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
}
