using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Data.Sqlite;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Lifecycle;

/// <summary>
/// The requests in flight at a stop get a bounded share of the shutdown budget (<c>Tracker:Shutdown:RequestsTimeout</c>):
/// one slow client can't hold the whole shutdown, on the real process with a real SIGTERM.
/// </summary>
public sealed class ShutdownRequestsTimeoutTests : IDisposable
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan RequestsTimeout = TimeSpan.FromSeconds(1);

    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-process-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task AbortsASlowRequestAfterItsShareAndStoresEveryAcceptedEvent()
    {
        // Given a service with a 20 s budget giving requests in flight 1 s, 4 clients posting, and one client sending
        // a body a few bytes at a time (fast enough for Kestrel's minimum data rate, far too slow to finish)
        var settings = new Dictionary<string, string>
        {
            ["Tracker__Shutdown__Timeout"] = Budget.ToString("c"),
            ["Tracker__Shutdown__RequestsTimeout"] = RequestsTimeout.ToString("c"),
        };
        await using var service = await ServiceProcess.StartAsync(_folder, settings);
        var accepted = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var clients = Enumerable.Range(0, 4).Select(c => Task.Run(() => Clients.PostUntilRefusedAsync(service.Client, $"load-{c}", accepted, stop.Token))).ToArray();
        var slow = new SlowClient(service.Client.BaseAddress!);
        var trickle = Task.Run(() => slow.SendAsync(stop.Token));
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(accepted.Count >= 2_000 && slow.Chunks >= 3), TimeSpan.FromSeconds(30)),
            $"the clients did not get going ({accepted.Count} accepted, {slow.Chunks} slow chunks)");

        // When the service is sent SIGTERM while the slow request is in flight
        var (exitCode, elapsed) = await service.TerminateAsync(TimeSpan.FromSeconds(60));
        await Task.WhenAll(clients);
        var slowAnswer = await trickle.WaitAsync(Patience.Default);

        // Then the shutdown took the requests' share and the drain, far from the whole budget, and exited 0
        Assert.Equal(0, exitCode);
        Assert.True(elapsed < RequestsTimeout + TimeSpan.FromSeconds(6), $"exit took {elapsed.TotalSeconds:F2} s; the requests' share is {RequestsTimeout.TotalSeconds} s of a {Budget.TotalSeconds} s budget");
        Assert.Contains("were aborted", service.Output, StringComparison.Ordinal);

        // And the slow client got no 202, while every event that got one is stored
        Assert.DoesNotContain("202", slowAnswer, StringComparison.Ordinal);
        Assert.Equal(accepted.Count, await StoreReader.CountAsync(service.DatabasePath) + service.CountSpilledEvents());
        Assert.Equal(accepted.Count, await StoreReader.CountAsync(service.DatabasePath, "message_id LIKE 'load-%'") + service.CountSpilledEvents());
    }

    /// <summary>A client that sends its headers, then its body 300 bytes every 200 ms, until the server closes the connection.</summary>
    private sealed class SlowClient(Uri api)
    {
        private int _chunks;

        public int Chunks => Volatile.Read(ref _chunks);

        /// <returns>What the server answered before it closed the connection (nothing, when it was aborted).</returns>
        public async Task<string> SendAsync(CancellationToken cancellationToken)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(api.Host, api.Port, cancellationToken);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            var headers = $"POST /events HTTP/1.1\r\nHost: {api.Authority}\r\nContent-Type: application/json\r\nContent-Length: 400000\r\n\r\n[";
            var chunk = Encoding.ASCII.GetBytes(new string(' ', 300));
            try
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(headers), cancellationToken);
                using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
                while (await tick.WaitForNextTickAsync(cancellationToken))
                {
                    await stream.WriteAsync(chunk, cancellationToken);
                    Interlocked.Increment(ref _chunks);
                }
            }
            catch (IOException)
            {
                // The server closed or reset the connection: read what it said, if anything.
            }

            try
            {
                var answer = new byte[4096];
                var read = await stream.ReadAsync(answer, cancellationToken);
                return Encoding.ASCII.GetString(answer, 0, read);
            }
            catch (IOException)
            {
                return string.Empty;
            }
        }
    }
}
