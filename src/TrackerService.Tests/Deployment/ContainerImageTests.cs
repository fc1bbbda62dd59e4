using System.Net;
using DotNet.Testcontainers.Builders;
using Microsoft.Data.Sqlite;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Deployment;

/// <summary>
/// The image built from the repository's Dockerfile (named by <c>TRACKER_IMAGE</c>; <c>.ci/run</c> builds it):
/// it runs as a non-root user, takes events, and on <c>docker stop</c> exits 0 with every event stored.
/// Skipped when no image is named, except under <c>CI=true</c>.
/// </summary>
public sealed class ContainerImageTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("tracker-image-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    [SkippableFact]
    public async Task RunsAsNonRootTakesEventsAndStopsCleanlyWithEverythingStored()
    {
        var image = Environment.GetEnvironmentVariable("TRACKER_IMAGE");
        var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        Skip.If(string.IsNullOrEmpty(image) && !ci, "TRACKER_IMAGE is not set: build the image (see .ci/run) to run this test.");
        Assert.False(string.IsNullOrEmpty(image), "CI must build the image and set TRACKER_IMAGE");

        // Given the image running with its data folder on the host (writable by the image's non-root user)
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_data, (UnixFileMode)0b111_111_111);
        }

        await using var container = new ContainerBuilder(image)
            .WithPortBinding(8080, assignRandomHostPort: true)
            .WithPortBinding(8081, assignRandomHostPort: true)
            .WithBindMount(_data, "/app/data")
            .WithEnvironment("Tracker__WriteKeys__0__Id", "image") // Production refuses to start without a write key
            .WithEnvironment("Tracker__WriteKeys__0__Key", "image-write-key")
            .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(8081).ForPath("/healthz/ready")))
            .Build();
        await container.StartAsync();

        // Then it runs as a non-root user
        var id = await container.ExecAsync(["id", "-u"]);
        Assert.NotEqual("0", id.Stdout.Trim());

        // When events are posted
        using var client = new HttpClient { BaseAddress = new Uri($"http://{container.Hostname}:{container.GetMappedPublicPort(8080)}") };
        client.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String("image-write-key:"u8));
        for (var r = 0; r < 20; r++)
        {
            using var response = await client.PostAsync("/events", Bodies.Json(Bodies.Batch(50, $"image-{r}")));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        // And the container is stopped (SIGTERM, as docker stop sends)
        await container.StopAsync();

        // Then it exited 0 with every event stored
        Assert.Equal(0, await container.GetExitCodeAsync());
        Assert.Equal(1_000, await StoreReader.CountAsync(Path.Combine(_data, "events.db")));
    }
}
