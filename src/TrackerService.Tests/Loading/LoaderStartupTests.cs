using Microsoft.Extensions.Options;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Loading;

/// <summary>What stops a loader's start, each in one line: a role that is none, a store that is no database, NATS out of reach.</summary>
public sealed class LoaderStartupTests
{
    [Theory]
    [InlineData("Foo")]
    [InlineData("2")]
    public async Task ARoleThatIsNoneStopsTheStart(string role)
    {
        await using var app = TrackerHost.Build(new() { ["Tracker:Role"] = role });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains($"Tracker:Role = '{role}' is invalid: it must be one of Intake, Loader.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALoaderWhoseStoreIsTheStreamStopsTheStart()
    {
        await using var app = TrackerHost.Build(new() { ["Tracker:Role"] = "loader", ["Tracker:Sink:Kind"] = "JetStream" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Tracker:Sink:Kind = 'JetStream' is invalid: it must be Sqlite or Postgres for a loader (Tracker:Role=Loader)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALoaderThatCantReachNatsExitsOneWithOneLine()
    {
        var url = $"nats://127.0.0.1:{ServiceProcess.FreePort()}";
        var folder = Directory.CreateTempSubdirectory("tracker-startup-").FullName;
        try
        {
            var (exitCode, lines) = await ServiceProcess.RunToExitAsync(folder, TimeSpan.FromSeconds(30),
                new Dictionary<string, string> { ["Tracker__Role"] = "Loader", ["Tracker__JetStream__Url"] = url });

            Assert.Equal(1, exitCode);
            Assert.Contains(lines, line => line.Contains($"TrackerService cannot start: NATS at {url} can't be reached", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, line => line.StartsWith("at ", StringComparison.Ordinal)); // no stack trace
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task ALoaderNeedsNoWriteKeysInProduction()
    {
        // The intake refuses to start in Production without a key; a loader takes no events, so it needs none
        await using var server = await NatsServer.StartAsync();
        var folder = Directory.CreateTempSubdirectory("tracker-startup-").FullName;
        try
        {
            await using var loader = await ServiceProcess.StartAsync(folder, new Dictionary<string, string>
            {
                ["Tracker__Role"] = "Loader",
                ["Tracker__JetStream__Url"] = server.Url,
                [ServiceProcess.AllowAnonymous] = "false",
            });

            Assert.Equal("Healthy", await loader.Admin.GetStringAsync("/healthz/ready"));
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(loader.Output.Contains("started as a loader", StringComparison.Ordinal)), Patience.Default),
                loader.Output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
