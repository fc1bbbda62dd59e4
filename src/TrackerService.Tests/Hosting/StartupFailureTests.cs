using System.Diagnostics;

namespace TrackerService.Tests.Hosting;

/// <summary>The real process with a bad setting: it stops at once, non-zero, with one line naming the key and the value.</summary>
public sealed class StartupFailureTests
{
    [Theory]
    [InlineData("Tracker__Sink__Kind", "Foo", "Tracker:Sink:Kind = 'Foo' is invalid: it must be one of Sqlite, Postgres.")]
    [InlineData("Tracker__Queue__Capacity", "0", "Tracker:Queue:Capacity = '0' is invalid: it must be between 1 and 100000000.")]
    [InlineData("Kestrel__Limits__KeepAliveTimeout", "soon", "Kestrel:Limits:KeepAliveTimeout = 'soon' is invalid: it must be a duration")]
    [InlineData("Kestrel__Limits__MaxRequestLineSize", "-5", "Kestrel:Limits:MaxRequestLineSize = '-5' is invalid: it is not taken by Kestrel")]
    public async Task ExitsWithOneLineNamingTheKeyAndTheValue(string variable, string value, string expected)
    {
        // Given the service with one bad setting, in an empty folder
        var folder = Directory.CreateTempSubdirectory("tracker-startup-").FullName;
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "TrackerService.dll")])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["Tracker__AdminUrl"] = "http://127.0.0.1:0";
        start.Environment[variable] = value;

        // When it starts
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(patience.Token);
        var lines = ((await output) + (await errors)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Directory.Delete(folder, recursive: true);

        // Then it exits 1 having written one line, the failure, and no stack trace
        Assert.Equal(1, process.ExitCode);
        var line = Assert.Single(lines);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Contains("cannot start", line, StringComparison.Ordinal);
    }
}
