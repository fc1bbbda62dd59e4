using System.Diagnostics;

namespace TrackerService.Benchmarks.Load;

/// <summary>
/// An open-loop, constant-rate load (what wrk2 does, which Debian does not ship): request <c>i</c> is due at
/// <c>start + i / rps</c> whatever happened to the others, and its latency is counted from that due time, so a
/// stall shows as the latency every delayed request saw, not as a few slow samples (coordinated omission).
/// </summary>
/// <remarks>
/// One worker per connection, each owning the slice <c>i ≡ worker (mod connections)</c> of the timetable, so the
/// hot loop shares nothing: its own prepared body, its own preallocated sample arrays. A worker that falls behind
/// sends at once until it catches up, and the lateness lands in the latencies. A request that is sent early
/// (sleeps here are in whole milliseconds) is timed from when it was sent, never from before.
/// Workers are dedicated threads that sleep and send synchronously: with tasks, every wake-up went through the
/// timer queue and the thread pool, which on two busy cores added about 1.5 ms at the median and 6 ms at p99 to
/// what was measured (0.25 ms and 1 ms this way, against the empty baseline). It costs more CPU in the kernel, so
/// the generator reports the CPU it used, and how late it woke for its own sends.
/// </remarks>
internal static class RateCommand
{
    public static int Run(Uri url, double rps, double seconds, int connections, byte[] body, double warmupSeconds)
    {
        using var invoker = LoadClient.Create(connections);
        var total = (long)Math.Round(rps * (warmupSeconds + seconds));
        var firstMeasured = (long)Math.Round(rps * warmupSeconds);
        var ticksPerRequest = Stopwatch.Frequency / rps;
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 5;

        // A bound on the run, however far behind the target is: the nominal length and half again, plus 2 s.
        var hardStop = start + (long)(Stopwatch.Frequency * ((warmupSeconds + seconds) * 1.5 + 2));
        var workers = Enumerable.Range(0, connections)
            .Select(w => new Worker(w, connections, total, firstMeasured, start, ticksPerRequest, hardStop, body))
            .ToArray();
        var threads = workers.Select(w => new Thread(() => w.Run(invoker, url)) { IsBackground = true, Name = "rate worker" }).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        var cpu = (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds / Stopwatch.GetElapsedTime(start).TotalSeconds;

        var latency = Merge(workers, w => w.Latencies);
        var lag = Merge(workers, w => w.Lags);
        var wakeLate = workers.SelectMany(w => w.WakeLate.Take(w.Waited)).Order().ToArray();
        var service = new long[latency.Length];
        var n = 0;
        foreach (var w in workers)
        {
            for (var k = 0; k < w.Count; k++)
            {
                service[n++] = w.Latencies[k] - w.Lags[k];
            }
        }

        Array.Sort(service);
        var measured = latency.Length;
        var windowStart = start + (long)(firstMeasured * ticksPerRequest);
        var windowEnd = workers.Max(w => w.LastEnd);
        var achieved = measured / Stopwatch.GetElapsedTime(windowStart, Math.Max(windowEnd, windowStart + 1)).TotalSeconds;
        Output.Result(new
        {
            Kind = "rate",
            Url = url.ToString(),
            TargetRps = rps,
            AchievedRps = Math.Round(achieved, 1),
            Seconds = seconds,
            Connections = connections,
            Requests = measured,
            Errors = workers.Sum(w => w.Errors),
            Unsent = workers.Sum(w => w.Unsent),
            P50Ms = Ms(Output.Quantile(latency, 0.50)),
            P90Ms = Ms(Output.Quantile(latency, 0.90)),
            P99Ms = Ms(Output.Quantile(latency, 0.99)),
            P999Ms = Ms(Output.Quantile(latency, 0.999)),
            MaxMs = Ms(latency.Length == 0 ? double.NaN : latency[^1]),
            ServiceP50Ms = Ms(Output.Quantile(service, 0.50)),
            ServiceP99Ms = Ms(Output.Quantile(service, 0.99)),
            SendLagP99Ms = Ms(Output.Quantile(lag, 0.99)),
            WakeLateP99Ms = Ms(Output.Quantile(wakeLate, 0.99)),
            GeneratorCpuCores = Math.Round(cpu, 2),
            WaitedShare = measured == 0 ? 0 : Math.Round((double)wakeLate.Length / measured, 3),
        });
        return 0;
    }

    private static double Ms(double ticks) => Math.Round(ticks * 1000.0 / Stopwatch.Frequency, 3);

    private static long[] Merge(Worker[] workers, Func<Worker, long[]> samples)
    {
        var all = new long[workers.Sum(w => w.Count)];
        var n = 0;
        foreach (var w in workers)
        {
            Array.Copy(samples(w), 0, all, n, w.Count);
            n += w.Count;
        }

        Array.Sort(all);
        return all;
    }

    private sealed class Worker(int id, int stride, long total, long firstMeasured, long start, double ticksPerRequest, long hardStop, byte[] body)
    {
        private static readonly long OneMs = Stopwatch.Frequency / 1000;

        public long[] Latencies { get; } = new long[(total / stride) + 2];

        public long[] Lags { get; } = new long[(total / stride) + 2];

        /// <summary>How late the worker woke for requests it had to wait for: the generator's own lateness, not the server's.</summary>
        public long[] WakeLate { get; } = new long[(total / stride) + 2];

        public int Waited { get; private set; }

        public int Count { get; private set; }

        public int Errors { get; private set; }

        public long Unsent { get; private set; }

        public long LastEnd { get; private set; }

        public void Run(HttpMessageInvoker invoker, Uri url)
        {
            var content = LoadClient.Content(body);
            for (var i = (long)id; i < total; i += stride)
            {
                var due = start + (long)(i * ticksPerRequest);
                var now = Stopwatch.GetTimestamp();
                var waited = false;
                while (due - now >= OneMs)
                {
                    Thread.Sleep((int)((due - now) / OneMs));
                    now = Stopwatch.GetTimestamp();
                    waited = true;
                }

                if (waited && i >= firstMeasured)
                {
                    WakeLate[Waited++] = Math.Max(0, now - due);
                }

                if (now > hardStop)
                {
                    Unsent = ((total - i - 1) / stride) + 1;
                    return;
                }

                bool ok;
                try
                {
                    var status = (int)LoadClient.Post(invoker, url, content);
                    ok = status is >= 200 and < 300;
                }
                catch (HttpRequestException)
                {
                    ok = false;
                }

                var end = Stopwatch.GetTimestamp();
                LastEnd = end;
                if (!ok)
                {
                    Errors++;
                }

                if (i >= firstMeasured)
                {
                    Latencies[Count] = end - Math.Min(due, now); // from the due time when late, from the send when early
                    Lags[Count] = Math.Max(0, now - due);
                    Count++;
                }
            }
        }
    }
}
