using System.Collections.Concurrent;
using System.Net;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// Clients posting through a load balancer until stopped, as SDKs do: requests of 20 events with their own
/// <c>messageId</c>s, and a request that fails (a <c>502</c> from nginx, a <c>503</c>, a reset) sent again with the same
/// ids until it gets a <c>202</c>. Every id answered <c>202</c> is kept with the replica that took it (nginx's
/// <see cref="NginxBalancer.UpstreamHeader"/>), and every id ever sent, so a test can tell lost from stored-unanswered.
/// </summary>
internal sealed class BalancedLoad : IAsyncDisposable
{
    private const int EventsPerRequest = 20;

    private readonly HttpClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients;
    private readonly ConcurrentDictionary<string, string> _accepted = new();
    private readonly ConcurrentBag<string> _sent = [];
    private int _failures;

    private BalancedLoad(Uri balancer, int clients)
    {
        _client = new HttpClient { BaseAddress = balancer, Timeout = TimeSpan.FromSeconds(30) };
        _clients = [.. Enumerable.Range(0, clients).Select(c => Task.Run(() => PostAsync($"c{c}")))];
    }

    /// <summary>messageId → the upstream (<c>127.0.0.1:port</c>) that answered it 202.</summary>
    public IReadOnlyDictionary<string, string> Accepted => _accepted;

    /// <summary>Every messageId sent at least once, answered or not.</summary>
    public IReadOnlySet<string> Sent => _sent.ToHashSet();

    /// <summary>Requests that did not get a 202 (and were sent again).</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>Starts <paramref name="clients"/> clients posting to <paramref name="balancer"/>.</summary>
    public static BalancedLoad Start(Uri balancer, int clients = 4) => new(balancer, clients);

    /// <summary>Waits until <paramref name="more"/> more events than now have been answered 202: the service is taking load.</summary>
    public async Task WaitForProgressAsync(int more, string during, TimeSpan timeout)
    {
        var target = _accepted.Count + more;
        var progressed = await Eventually.TrueAsync(() => Task.FromResult(_accepted.Count >= target || _clients.Any(c => c.IsFaulted)), timeout);
        await Task.WhenAll(_clients.Where(c => c.IsFaulted)); // a client's own bug surfaces here
        Assert.True(progressed, $"{during}: only {_accepted.Count} of {target} events answered 202 within {timeout.TotalSeconds} s ({Failures} failed requests)");
    }

    /// <summary>Stops the clients: no new request, none sent again; those in flight get their answers first.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
    }

    /// <summary>The events each replica answered 202, by its <c>host:port</c>.</summary>
    public Dictionary<string, int> AcceptedBy() =>
        _accepted.GroupBy(a => a.Value).ToDictionary(g => g.Key, g => g.Count());

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _client.Dispose();
        _stop.Dispose();
    }

    private async Task PostAsync(string client)
    {
        for (var r = 0; !_stop.IsCancellationRequested; r++)
        {
            var ids = Enumerable.Range(0, EventsPerRequest).Select(i => $"{client}-{r}-{i}").ToArray();
            foreach (var id in ids)
            {
                _sent.Add(id);
            }

            while (!_stop.IsCancellationRequested && !await TryPostAsync(ids))
            {
                Interlocked.Increment(ref _failures);
                await Backoff();
            }
        }
    }

    /// <summary>An SDK's pause before sending a failed request again (not a wait for a condition: the client's own pacing).</summary>
    private async Task Backoff()
    {
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), _stop.Token);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private async Task<bool> TryPostAsync(string[] ids)
    {
        try
        {
            // Not cancelled by a stop: a request the service may have taken runs to its answer, so that what the
            // replicas counted as accepted is what the clients heard 202 for.
            using var response = await _client.PostAsync("/events", Bodies.Json(ids.Select(id => Bodies.Track(id)).ToArray()), CancellationToken.None);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                return false;
            }

            // "127.0.0.1:A, 127.0.0.1:B" when the first refused the connection: the last one took the request.
            var upstream = response.Headers.TryGetValues(NginxBalancer.UpstreamHeader, out var values)
                ? values.Last().Split(',').Last().Trim()
                : "(no upstream header)";
            foreach (var id in ids)
            {
                _accepted[id] = upstream;
            }

            return true;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false; // refused, reset, or no answer in the client's timeout: sent again with the same ids
        }
    }
}
