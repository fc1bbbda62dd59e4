using NATS.Client.JetStream.Models;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Streaming;

/// <summary>The real process on a stream it can't use: it stops at once, exit code 1, with one line that says why.</summary>
public sealed class JetStreamStartupTests
{
    [Fact]
    public async Task AServerThatCantBeReachedStopsTheStartInOneLine()
    {
        var url = $"nats://127.0.0.1:{ServiceProcess.FreePort()}";

        var (exitCode, lines) = await RunAsync(url);

        Assert.Equal(1, exitCode);
        Assert.Contains(lines, line => line.Contains($"TrackerService cannot start: NATS at {url} can't be reached", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.StartsWith("at ", StringComparison.Ordinal)); // no stack trace
    }

    [Fact]
    public async Task AStreamWhoseRetentionDiffersStopsTheStartInOneLine()
    {
        await using var server = await NatsServer.StartAsync();
        await StreamReading.CreateAsync(server.Url, new StreamConfig("TRACKER_EVENTS", ["tracker.events.>"]) { Retention = StreamConfigRetention.Interest });

        var (exitCode, lines) = await RunAsync(server.Url);

        Assert.Equal(1, exitCode);
        Assert.Contains(lines, line => line.Contains(
            "TrackerService cannot start: JetStream stream TRACKER_EVENTS has retention Interest and storage File, the settings want Limits", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.StartsWith("at ", StringComparison.Ordinal));
    }

    private static async Task<(int ExitCode, string[] Lines)> RunAsync(string url)
    {
        var folder = Directory.CreateTempSubdirectory("tracker-startup-").FullName;
        try
        {
            return await ServiceProcess.RunToExitAsync(folder, TimeSpan.FromSeconds(30),
                new Dictionary<string, string> { ["Tracker__Sink__Kind"] = "JetStream", ["Tracker__JetStream__Url"] = url });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
