using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Spill;

/// <summary>
/// The disk's faults on the real service process: a spill on a full filesystem (a 2 MB tmpfs), a data folder made
/// immutable under load (<c>chattr +i</c>), a spill path that is a file. Accepted events are never lost to a crash:
/// the service answers 503 and holds what it has, and at shutdown says exactly how many it could not keep.
/// Skipped, saying why, where the kernel refuses the fault's set-up (no tmpfs mounts, no chattr).
/// </summary>
public sealed partial class SpillFaultProcessTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-disk-").FullName;
    private readonly List<string> _mounts = [];
    private readonly List<string> _immutable = [];

    /// <summary>The store gives up on a locked database within a fraction of a second, so batches go to the spill at once.</summary>
    private static readonly Dictionary<string, string> FastGivingUp = new()
    {
        ["Tracker__Sink__AttemptTimeout"] = "00:00:00.200",
        ["Tracker__Sink__MaxRetryAttempts"] = "1",
        ["Tracker__Sink__RetryBaseDelay"] = "00:00:00.010",
        ["Tracker__Queue__Capacity"] = "5000",
        ["Tracker__Shutdown__Timeout"] = "00:00:03",
    };

    private string DataFolder => Path.Combine(_folder, "data");

    private string SpillFolder => Path.Combine(DataFolder, "spill");

    public void Dispose()
    {
        foreach (var path in _immutable)
        {
            Shell.Run("chattr", "-i", path);
        }

        foreach (var mount in _mounts)
        {
            Shell.Run("umount", mount);
        }

        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [SkippableFact]
    public async Task HoldsEventsAndAnswers503WhenTheSpillDiskIsFullThenSaysExactlyHowManyItCouldNotKeep()
    {
        // Given a service whose spill is a 2 MB filesystem and whose store another connection holds locked
        Directory.CreateDirectory(SpillFolder);
        Skip.IfNot(Shell.Run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", SpillFolder), "tmpfs can't be mounted here (needs root and a kernel that allows it)");
        _mounts.Add(SpillFolder);
        var service = await ServiceProcess.StartAsync(_folder, FastGivingUp);
        await using (service)
        {
            await using var locker = await StoreReader.LockAsync(service.DatabasePath);

            // When clients post until the spill's disk is full and the queue with it
            var accepted = new ConcurrentBag<string>();
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 4).Select(c => Task.Run(() => PostAsync(service.Client, $"full-{c}", accepted, stop.Token))).ToArray();

            // Then the service stays up, answering 503, and says it is not ready, because events can go nowhere
            var notReady = await Eventually.TrueAsync(
                async () => await ReadinessAsync(service) == HttpStatusCode.ServiceUnavailable
                    && service.Output.Contains("\"HealthCheckName\":\"spill\",\"HealthStatus\":\"Unhealthy\"", StringComparison.Ordinal),
                TimeSpan.FromSeconds(60));
            Assert.True(notReady, $"readiness never reported the spill. Output:\n{service.Output}");
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(Refused > 0), TimeSpan.FromSeconds(30)), "no request was refused");
            Assert.DoesNotContain("failed; stopping the service", service.Output, StringComparison.Ordinal);

            // And at SIGTERM it writes what fits within the budget, and logs exactly how many it could not keep, exit 1
            var (exitCode, elapsed) = await service.TerminateAsync(TimeSpan.FromSeconds(30));
            await stop.CancelAsync();
            await Task.WhenAll(clients);
            Assert.Equal(1, exitCode);
            Assert.True(elapsed < TimeSpan.FromSeconds(5), $"exit took {elapsed.TotalSeconds:F2} s; the budget is 3 s");
            var notKept = NotKept().Match(service.Output);
            Assert.True(notKept.Success, $"no line of events not kept. Output:\n{service.Output}");
            var lost = long.Parse(notKept.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(lost > 0);
            Assert.Empty(Directory.GetFiles(SpillFolder, "*.partial"));
            Assert.Equal(accepted.Count, await StoreReader.CountAsync(service.DatabasePath) + service.CountSpilledEvents() + lost);
        }
    }

    [SkippableFact]
    public async Task Answers503WhileTheDataFolderIsImmutableAndStoresEveryAcceptedEventOnceItIsWritableAgain()
    {
        // Given a running service taking events
        var service = await ServiceProcess.StartAsync(_folder, FastGivingUp);
        await using (service)
        {
            var accepted = new ConcurrentBag<string>();
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 4).Select(c => Task.Run(() => PostAsync(service.Client, $"ro-{c}", accepted, stop.Token))).ToArray();
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(accepted.Count >= 2_000), TimeSpan.FromSeconds(30)), "the clients did not get going");

            // When the data folder and its files are made immutable under load, while another connection holds the
            // store locked (SQLite keeps writing through the descriptors it has open: the lock makes the batches go
            // to the spill, which can't create a file there)
            var locker = await StoreReader.LockAsync(service.DatabasePath);
            Directory.CreateDirectory(SpillFolder);
            foreach (var path in Directory.GetFiles(DataFolder, "*", SearchOption.AllDirectories).Append(SpillFolder).Append(DataFolder))
            {
                Skip.IfNot(Shell.Run("chattr", "+i", path), $"chattr +i is refused here ({path})");
                _immutable.Add(path);
            }

            // Then clients get 503 and the service does not crash
            var refusedBefore = Refused;
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(Refused > refusedBefore), TimeSpan.FromSeconds(60)), $"no request was refused. Output:\n{service.Output}");
            Assert.DoesNotContain("failed; stopping the service", service.Output, StringComparison.Ordinal);

            // And once the folder is writable again, every event answered 202 is stored
            foreach (var path in _immutable)
            {
                Assert.True(Shell.Run("chattr", "-i", path));
            }

            _immutable.Clear();
            await locker.DisposeAsync();
            await stop.CancelAsync();
            await Task.WhenAll(clients);
            await StoreReader.WaitForCountAsync(service.DatabasePath, accepted.Count, TimeSpan.FromSeconds(60));
            var (exitCode, _) = await service.TerminateAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, exitCode);
            Assert.Equal(accepted.Count, await StoreReader.CountAsync(service.DatabasePath, "message_id LIKE 'ro-%'"));
        }
    }

    [Fact]
    public async Task RefusesToStartWithOneLineNamingTheSpillPathWhenItIsAFile()
    {
        // Given a data folder whose spill path is a regular file
        Directory.CreateDirectory(DataFolder);
        await File.WriteAllTextAsync(SpillFolder, "not a folder");

        // When it starts
        var (exitCode, lines) = await ServiceProcess.RunToExitAsync(_folder, TimeSpan.FromSeconds(30));

        // Then it exits 1 with one line naming the path
        Assert.Equal(1, exitCode);
        var line = Assert.Single(lines);
        Assert.Contains("cannot start", line, StringComparison.Ordinal);
        Assert.Contains("Tracker:Spill:Directory", line, StringComparison.Ordinal);
        Assert.Contains(SpillFolder, line, StringComparison.Ordinal);
    }

    private int _refused;

    private int Refused => Volatile.Read(ref _refused);

    /// <summary>Posts batches of 50 until stopped (between requests) or the listener closes, counting what got a 202 and what a 503.</summary>
    private async Task PostAsync(HttpClient client, string prefix, ConcurrentBag<string> accepted, CancellationToken cancellationToken)
    {
        for (var r = 0; !cancellationToken.IsCancellationRequested; r++)
        {
            var ids = Enumerable.Range(0, 50).Select(i => $"{prefix}-{r}-{i}").ToArray();
            try
            {
                // Not cancelled mid-request: a request the service answered 202 must be counted as accepted.
                using var response = await client.PostAsync("/events", Bodies.Json(ids.Select(id => Bodies.Track(id)).ToArray()), CancellationToken.None);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    foreach (var id in ids)
                    {
                        accepted.Add(id);
                    }
                }
                else
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    Interlocked.Increment(ref _refused);
                    await Task.Yield();
                }
            }
            catch (HttpRequestException)
            {
                return; // the listener is closed
            }
        }
    }

    private static async Task<HttpStatusCode> ReadinessAsync(ServiceProcess service)
    {
        try
        {
            using var response = await service.Admin.GetAsync("/healthz/ready");
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }


    [GeneratedRegex(@"(\d+) of the (\d+) events left at shutdown could not be kept")]
    private static partial Regex NotKept();
}
