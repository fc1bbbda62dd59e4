using System.Diagnostics;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Runs a system tool: for a fault test (mount, chattr), whether it worked; for a tool-driven test (npm, node), what it printed.</summary>
internal static class Shell
{
    /// <returns>False when the tool failed or is not installed: the caller skips, saying what it needed.</returns>
    public static bool Run(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        try
        {
            using var process = Process.Start(start)!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // the tool is not installed
        }
    }

    /// <summary>Whether <paramref name="command"/> is an executable file on the PATH.</summary>
    public static bool IsOnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(folder => File.Exists(Path.Combine(folder, command)));

    /// <summary>
    /// The full path of a server's executable: on the PATH, or in the sbin folders where Debian installs daemons
    /// (nginx, nats-server), which a non-root user's PATH often leaves out. Null when it is not installed.
    /// </summary>
    public static string? FindServer(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/local/sbin", "/usr/sbin", "/sbin"])
            .Select(folder => Path.Combine(folder, command))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// How a test starts a tool or a server in <paramref name="folder"/>: stdout and stderr captured, stdin redirected
    /// so that the caller closes it at once (nothing may wait for a keyboard).
    /// </summary>
    public static ProcessStartInfo Redirected(string command, IEnumerable<string> args, string folder) => new(command, args)
    {
        WorkingDirectory = folder,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        RedirectStandardInput = true,
        UseShellExecute = false,
    };

    /// <summary>
    /// Runs a tool in <paramref name="folder"/> to its end and returns its exit code and what it wrote. A tool still
    /// running after <paramref name="timeout"/> is killed (with its children) and the test fails, showing its output.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(
        string command, IEnumerable<string> args, string folder, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = Redirected(command, args, folder);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var patience = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"{command} {string.Join(' ', args)} was still running after {timeout.TotalSeconds} s.\n{await output}\n{await errors}");
        }

        return (process.ExitCode, await output, await errors);
    }
}
