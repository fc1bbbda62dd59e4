using System.Security.Cryptography;
using System.Text.Json;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sdk;

/// <summary>
/// The Node side of the SDK tests (<c>Sdk/node/</c>): its packages, pinned in <c>package-lock.json</c>, installed with
/// <c>npm ci</c> when <c>node_modules</c> is missing or was installed from another lock file, and its scripts, each of
/// which prints one JSON summary line. Without node and npm a test is skipped, except under <c>CI=true</c>, where it fails.
/// </summary>
internal static class NodeSdk
{
    private const string Stamp = ".installed-from-lock";

    private static readonly string[] Tools = ["node", "npm"];

    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    public static string Folder { get; } = Path.Combine(Repository.Root, "src", "TrackerService.Tests", "Sdk", "node");

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips the test when node or npm is missing (a failure under CI), then makes sure the packages are installed.</summary>
    public static async Task RequireAsync()
    {
        var missing = Tools.Where(tool => !Shell.IsOnPath(tool)).ToList();
        Skip.If(missing.Count > 0 && !InCi, $"{string.Join(" and ", missing)} not found: install Node.js 20+ and npm (.ci/run does) to run the SDK tests.");
        Assert.True(missing.Count == 0, $"CI must have {string.Join(" and ", missing)} (.ci/run installs them).");
        await EnsureInstalledAsync();
    }

    /// <summary>Runs <c>node SCRIPT ARGS</c> in the folder and returns its summary (the last line it printed, as JSON).</summary>
    public static async Task<JsonElement> RunAsync(string script, IEnumerable<string> args, TimeSpan timeout)
    {
        var (exitCode, output, errors) = await Shell.RunAsync("node", [script, .. args], Folder, timeout);
        var last = output.TrimEnd().Split('\n')[^1];
        try
        {
            var summary = JsonDocument.Parse(last).RootElement.Clone();
            Assert.True(exitCode == 0, $"{script} exited {exitCode}: {last}\n{errors}");
            return summary;
        }
        catch (JsonException)
        {
            Assert.Fail($"{script} exited {exitCode} without a JSON summary.\nstdout:\n{output}\nstderr:\n{errors}");
            throw;
        }
    }

    /// <summary>
    /// <c>npm ci</c> unless <c>node_modules</c> was installed from this very lock file (a stamp with the lock's hash).
    /// One install at a time: the SDK test classes run in parallel and share the folder.
    /// </summary>
    private static async Task EnsureInstalledAsync()
    {
        var lockHash = Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(Folder, "package-lock.json"))));
        var stamp = Path.Combine(Folder, "node_modules", Stamp);
        await InstallLock.WaitAsync();
        try
        {
            if (File.Exists(stamp) && await File.ReadAllTextAsync(stamp) == lockHash)
            {
                return;
            }

            var environment = new Dictionary<string, string>
            {
                ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1", // the browser is Debian's chromium, never a download
                ["npm_config_audit"] = "false",
                ["npm_config_fund"] = "false",
                ["npm_config_update_notifier"] = "false",
            };
            var (exitCode, output, errors) = await Shell.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], Folder, TimeSpan.FromMinutes(5), environment);
            Assert.True(exitCode == 0, $"npm ci failed ({exitCode}) in {Folder}:\n{output}\n{errors}");
            await File.WriteAllTextAsync(stamp, lockHash);
        }
        finally
        {
            InstallLock.Release();
        }
    }
}
