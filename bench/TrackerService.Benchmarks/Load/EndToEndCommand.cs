using System.Diagnostics;
using System.Net;
using TrackerService.Benchmarks.Store;

namespace TrackerService.Benchmarks.Load;

/// <summary>
/// Batched end to end: <c>events</c> events in requests of <c>perRequest</c> from <c>senders</c> concurrent senders,
/// then waits until the store holds every one of them. The rate is events / (last event stored − first request sent).
/// Bodies: <c>events</c>, the sample event in arrays for <c>POST /events</c>; <c>node</c>, the same event as
/// analytics-node sends it, in arrays for <c>POST /events</c>; <c>segment</c>, those in <c>/v1/batch</c> envelopes (answered 200).
/// </summary>
/// <remarks>
/// Bodies are built before the clock starts, with message ids unique to the run, so the store's count can be
/// checked exactly. Nothing is polled while sending (the probe would compete for the same two cores); after the
/// last 202 the probe first waits, with index lookups only, for the last event of each sender's last request,
/// then for the run's count. The completion time is the start of the first poll that saw everything, which can
/// only make the rate look lower than it is.
/// </remarks>
internal static class EndToEndCommand
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(Uri url, string sink, int events, int perRequest, int senders, string shape = "events")
    {
        var prefix = SampleEvents.NewPrefix();
        var requests = (events + perRequest - 1) / perRequest;
        var bodies = new byte[requests][];
        Func<long, int, byte[]> body = shape switch
        {
            "events" => (first, count) => SampleEvents.Body(prefix, first, count),
            "node" => (first, count) => NodeSampleEvents.Body(prefix, first, count, envelope: false),
            "segment" => (first, count) => NodeSampleEvents.Body(prefix, first, count, envelope: true),
            _ => throw new ArgumentException($"the body must be events, node or segment, not '{shape}'", nameof(shape)),
        };
        var taken = shape == "segment" ? HttpStatusCode.OK : HttpStatusCode.Accepted;
        Parallel.For(0, requests, r => bodies[r] = body((long)r * perRequest, Math.Min(perRequest, events - (r * perRequest))));

        await using var probe = StoreProbe.Open(sink);
        var before = probe is null ? 0 : await probe.TotalAsync();
        using var invoker = LoadClient.Create(senders);

        var next = -1;
        var retries = 0L;
        var lastRequestOf = new int[senders];
        var since = DateTimeOffset.UtcNow;
        if (probe is not null)
        {
            await probe.StartAsync(since);
        }

        var firstSent = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, senders).Select(s => Task.Run(async () =>
        {
            lastRequestOf[s] = -1;
            int r;
            while ((r = Interlocked.Increment(ref next)) < requests)
            {
                var content = LoadClient.Content(bodies[r]);
                while (true)
                {
                    var status = await LoadClient.PostAsync(invoker, url, content, CancellationToken.None);
                    if (status == taken)
                    {
                        break;
                    }

                    if (status != HttpStatusCode.ServiceUnavailable)
                    {
                        throw new InvalidOperationException($"request {r}: HTTP {(int)status}, expected {(int)taken}");
                    }

                    // The queue is full: nothing of this request was taken, so sending it again is exact.
                    Interlocked.Increment(ref retries);
                    await Task.Delay(20);
                }

                lastRequestOf[s] = r;
            }
        })));
        var lastAccepted = Stopwatch.GetTimestamp();
        var sendSeconds = Stopwatch.GetElapsedTime(firstSent, lastAccepted).TotalSeconds;

        if (probe is null)
        {
            Output.Result(new { Kind = "e2e", Sink = "none", Events = events, PerRequest = perRequest, Senders = senders, SendSeconds = Math.Round(sendSeconds, 3), AcceptedPerS = Math.Round(events / sendSeconds), Retries503 = retries });
            return 0;
        }

        var tail = lastRequestOf.Where(r => r >= 0)
            .Select(r => SampleEvents.Id(prefix, Math.Min(((long)r * perRequest) + perRequest, events) - 1))
            .ToArray();
        if (await WaitAsync(() => probe.PresentAsync(tail), tail.Length) is null
            || await WaitAsync(probe.StoredSinceStartAsync, events) is not { } storedAt)
        {
            Console.Error.WriteLine($"e2e: FAILED: the store holds {await probe.TotalAsync() - before} of {events} events and has stopped growing");
            return 1;
        }

        var stored = await probe.TotalAsync() - before;
        if (stored != events)
        {
            Console.Error.WriteLine($"e2e: FAILED: {events} events accepted but the store has {stored} more rows than before the run");
            return 1;
        }

        var seconds = Stopwatch.GetElapsedTime(firstSent, storedAt).TotalSeconds;
        Output.Result(new
        {
            Kind = "e2e",
            Sink = sink.Split(':')[0],
            Body = shape,
            Events = events,
            PerRequest = perRequest,
            Senders = senders,
            Stored = stored,
            SendSeconds = Math.Round(sendSeconds, 3),
            AcceptedPerS = Math.Round(events / sendSeconds),
            StoredSeconds = Math.Round(seconds, 3),
            EventsPerS = Math.Round(events / seconds),
            StoredAfterLast202S = Math.Round(Stopwatch.GetElapsedTime(lastAccepted, storedAt).TotalSeconds, 3),
            Retries503 = retries,
        });
        return 0;
    }

    /// <summary>
    /// Polls until <paramref name="count"/> reaches <paramref name="target"/>; returns the timestamp of the poll that saw
    /// it, or null if the count stops moving for <see cref="Stall"/>.
    /// </summary>
    internal static async Task<long?> WaitAsync(Func<Task<long>> count, long target)
    {
        var last = -1L;
        var lastChange = Stopwatch.GetTimestamp();
        while (true)
        {
            var at = Stopwatch.GetTimestamp();
            var value = await count();
            if (value >= target)
            {
                return at;
            }

            if (value != last)
            {
                last = value;
                lastChange = at;
            }
            else if (Stopwatch.GetElapsedTime(lastChange) > Stall)
            {
                return null;
            }

            await Task.Delay(Poll);
        }
    }
}
