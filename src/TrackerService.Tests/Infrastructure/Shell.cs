using System.Diagnostics;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Runs a system tool for a fault test (mount, chattr): whether it worked, never why.</summary>
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
}
