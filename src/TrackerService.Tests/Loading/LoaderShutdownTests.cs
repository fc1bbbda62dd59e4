using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Loading;

/// <summary>A real loader process sent SIGTERM while it loads: it exits 0 within its deadline, and nothing is lost.</summary>
[Collection(TrackerService.Tests.Telemetry.RunsAlone.Name)] // a deadline measured on a real process: not beside the other tests' load
public sealed class LoaderShutdownTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-loader-").FullName;
    private NatsServer _server = null!;

    public async Task InitializeAsync() => _server = await NatsServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task SigtermMidLoadFinishesTheBatchesInHandAcksThemAndExitsZero()
    {
        // Given a loader part way through 20,000 events
        await StreamWriting.PublishAsync(_server.Url, TrackedEvents.Many(20_000, "m"));
        var first = await LoaderAsync();
        await using (first)
        {
            Assert.True(await Eventually.TrueAsync(async () => await StoreReader.CountAsync(first.DatabasePath) > 0, Patience.Default), "nothing was loaded");

            // When it is sent SIGTERM
            var (exitCode, elapsed) = await first.TerminateAsync(TimeSpan.FromSeconds(30));

            // Then it exits 0 well within its deadline, having acked what it stored and holding nothing
            Assert.Equal(0, exitCode);
            Assert.True(elapsed < TimeSpan.FromSeconds(4), $"exit took {elapsed.TotalSeconds:F2} s; the limit is 4 s");
            Assert.Contains("Loader shutdown complete (drained)", first.Output, StringComparison.Ordinal);
            var consumer = await StreamWriting.ConsumerAsync(_server.Url);
            Assert.Equal(0, consumer.NumAckPending);
            Assert.Equal(20_000L, await StoreReader.CountAsync(first.DatabasePath) + (long)consumer.NumPending);
        }

        // And a loader started again loads the rest, each event once
        await using var second = await LoaderAsync();
        await StoreReader.WaitForCountAsync(second.DatabasePath, 20_000);
        await StreamWriting.WaitForAllAckedAsync(_server.Url);
    }

    [Fact]
    public async Task SigtermWhileTheStoreHoldsTheWriteHandsTheBatchBackAtOnceAndExitsZeroWithinTheDeadline()
    {
        // Given a loader with a 3 s shutdown budget, holding a batch its store can't commit (another connection locks it)
        var first = await LoaderAsync();
        await using (first)
        {
            await using (var store = await StoreReader.LockAsync(first.DatabasePath))
            {
                await StreamWriting.PublishAsync(_server.Url, TrackedEvents.Many(300, "m"));
                Assert.True(await Eventually.TrueAsync(async () => (await StreamWriting.ConsumerAsync(_server.Url)).NumAckPending > 0, Patience.Default), "no batch was delivered");

                // When it is sent SIGTERM
                var (exitCode, elapsed) = await first.TerminateAsync(TimeSpan.FromSeconds(30));

                // Then it exits 0 within the deadline + 1 s, its batches handed back (not left to AckWait, 30 s)
                Assert.Equal(0, exitCode);
                Assert.True(elapsed < TimeSpan.FromSeconds(4), $"exit took {elapsed.TotalSeconds:F2} s; the limit is 4 s");
                Assert.Contains("Loader shutdown complete (deadline reached)", first.Output, StringComparison.Ordinal);
                Assert.Contains("handed back 300", first.Output, StringComparison.Ordinal);
            }
        }

        // And a loader started again stores every event once, long before AckWait would have given them back
        await using var second = await LoaderAsync();
        await StoreReader.WaitForCountAsync(second.DatabasePath, 300);
        await StreamWriting.WaitForAllAckedAsync(_server.Url);
    }

    private Task<ServiceProcess> LoaderAsync() => ServiceProcess.StartAsync(_folder, new Dictionary<string, string>
    {
        ["Tracker__Role"] = "Loader",
        ["Tracker__JetStream__Url"] = _server.Url,
        ["Tracker__Shutdown__Timeout"] = "00:00:03",
    });
}
