using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Pipeline;

/// <summary>
/// The byte bound on the real process: large events with the store blocked fill the queue by bytes, clients get 503,
/// and the process stays under its documented memory ceiling (docs/operations.md). A behaviour check, not a benchmark.
/// </summary>
public sealed class LargeEventMemoryTests : IDisposable
{
    /// <summary>The ceiling docs/operations.md and README.md state: 300 MiB of resident memory.</summary>
    private const long CeilingBytes = 300L * 1024 * 1024;

    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-process-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task RefusesLargeEventsOnceTheByteBoundIsReachedAndStaysUnderTheCeiling()
    {
        // Given the service with its default queue, its store locked by another writer and a spill that is soon full
        // (so the consumers hold their batches and the queue fills), and 8 clients posting 16 events of 30 KB a request
        var settings = new Dictionary<string, string> { ["Tracker__Spill__MaxBytes"] = "1048576", ["Tracker__Shutdown__Timeout"] = "00:00:05" };
        await using var service = await ServiceProcess.StartAsync(_folder, settings);
        await using var locker = await StoreReader.LockAsync(service.DatabasePath);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var refusals = 0;
        long accepted = 0;
        var peak = 0L;
        async Task PostAsync(int client)
        {
            for (var r = 0; Volatile.Read(ref refusals) < 40 && Volatile.Read(ref peak) < CeilingBytes && !stop.IsCancellationRequested; r++)
            {
                using var response = await service.Client.PostAsync("/events", Bodies.Large($"large-{client}-{r}"), stop.Token);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    Interlocked.Add(ref accepted, 16);
                }
                else
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    Interlocked.Increment(ref refusals);
                }

                var hwm = PeakResidentBytes(service.ProcessId);
                if (hwm > Volatile.Read(ref peak))
                {
                    Interlocked.Exchange(ref peak, hwm);
                }
            }
        }

        // When they post until 40 requests have been refused (or the memory passes the ceiling)
        await Task.WhenAll(Enumerable.Range(0, 8).Select(c => Task.Run(() => PostAsync(c))));
        peak = PeakResidentBytes(service.ProcessId);

        // Then they were refused with 503, the process stayed under its ceiling, and what was accepted is far
        // less than the event capacity would have let in (50,000 events of 30 KB: 1.5 GB)
        Assert.True(refusals >= 40, $"only {refusals} refusals, {accepted} events accepted, peak {peak / 1048576} MiB");
        Assert.True(peak < CeilingBytes, $"peak resident memory {peak / 1048576} MiB, over the {CeilingBytes / 1048576} MiB ceiling ({accepted} events accepted)");
        Assert.True(accepted < 5_000, $"{accepted} events accepted: the byte bound did not hold");

        // And after SIGTERM, every accepted event is spilled or stored
        var (exitCode, _) = await service.TerminateAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, exitCode);
        await locker.DisposeAsync();
        Assert.Equal(accepted, await StoreReader.CountAsync(service.DatabasePath) + service.CountSpilledEvents());
    }

    /// <summary>The process's peak resident memory so far (VmHWM), in bytes.</summary>
    private static long PeakResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
