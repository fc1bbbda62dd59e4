using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Hosting;

/// <summary>The real process with a bad setting: it stops at once, non-zero, with one line naming the key and the value.</summary>
public sealed class StartupFailureTests
{
    [Theory]
    [InlineData("Tracker__Sink__Kind", "Foo", "Tracker:Sink:Kind = 'Foo' is invalid: it must be one of Sqlite, Postgres, JetStream.")]
    [InlineData("Tracker__Queue__Capacity", "0", "Tracker:Queue:Capacity = '0' is invalid: it must be between 1 and 100000000.")]
    [InlineData("Kestrel__Limits__KeepAliveTimeout", "soon", "Kestrel:Limits:KeepAliveTimeout = 'soon' is invalid: it must be a duration")]
    [InlineData("Kestrel__Limits__MaxRequestLineSize", "-5", "Kestrel:Limits:MaxRequestLineSize = '-5' is invalid: it is not taken by Kestrel")]
    public async Task ExitsWithOneLineNamingTheKeyAndTheValue(string variable, string value, string expected)
    {
        // Given the service with one bad setting, in an empty folder
        var folder = Directory.CreateTempSubdirectory("tracker-startup-").FullName;

        // When it starts
        var (exitCode, lines) = await ServiceProcess.RunToExitAsync(folder, TimeSpan.FromSeconds(30), new Dictionary<string, string> { [variable] = value });
        Directory.Delete(folder, recursive: true);

        // Then it exits 1 having written one line, the failure, and no stack trace
        Assert.Equal(1, exitCode);
        var line = Assert.Single(lines);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Contains("cannot start", line, StringComparison.Ordinal);
    }
}
