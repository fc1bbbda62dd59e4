using System.Diagnostics;

namespace TrackerService.Benchmarks.Load;

/// <summary>
/// An open-loop, constant-rate load (what wrk2 does, which Debian does not ship): request <c>i</c> is due at
/// <c>start + i / rps</c> whatever happened to the others, and its latency is counted from that due time, so a
/// stall shows as the latency every delayed request saw, not as a few slow samples (coordinated omission).
/// </summary>
/// <remarks>
/// <para>
/// One pacer thread walks the timetable: it sleeps to the next due time and starts every request due by then
/// (and those due within the next half millisecond, which are timed from their actual send rather than from before
/// it). Requests run asynchronously over at most <c>connections</c> pooled connections; one that finds them all busy
/// waits in the handler's queue, and that wait is part of its latency, as it would be for a real client. Each
/// request writes its samples into its own slot of preallocated arrays, so nothing is shared or locked.
/// </para>
/// <para>
/// Why not a task or a thread per connection, each with its slice of the timetable: with tasks every wake-up
/// went through the timer queue and the thread pool (about 1.5 ms at the median and 6 ms at p99 added to what was
/// measured, on two busy cores); with threads sleeping and sending synchronously the timing was right but the
/// generator took a whole core at 12k requests/s, leaving the service too little to keep the rate. One pacer
/// waking once a millisecond costs little and keeps the timing. The generator reports the CPU it used, how late
/// it sent (any cause) and how late it woke up (its own lateness), so a reader can tell whether it kept up.
/// bench/run also runs it with inline socket completions and no thread-pool spinning (see <c>bench_tool</c> there),
/// which brought it to about 0.5 cores at 10,000 requests/s.
/// </para>
/// </remarks>
internal static class RateCommand
{
    private static readonly long OneMs = Stopwatch.Frequency / 1000;
    private static readonly long HalfMs = Stopwatch.Frequency / 2000;

    public static int Run(Uri url, double rps, double seconds, int connections, byte[] body, double warmupSeconds)
    {
        using var invoker = LoadClient.Create(connections);
        var total = (long)Math.Round(rps * (warmupSeconds + seconds));
        var firstMeasured = (long)Math.Round(rps * warmupSeconds);
        var ticksPerRequest = Stopwatch.Frequency / rps;
        var measured = (int)(total - firstMeasured);
        var latency = new long[measured];
        var lag = new long[measured];
        var ok = new bool[measured];
        var wakeLate = new List<long>(capacity: (int)((warmupSeconds + seconds) * 1100));
        using var outstanding = new CountdownEvent(1);
        long unsent = 0;

        var cpuBefore = Environment.CpuUsage.TotalTime;
        var start = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 5);

        // A bound on the run, however far behind the target is: the nominal length and half again, plus 2 s.
        var hardStop = start + (long)(Stopwatch.Frequency * (((warmupSeconds + seconds) * 1.5) + 2));
        var pacer = new Thread(() =>
        {
            long i = 0;
            while (i < total)
            {
                var now = Stopwatch.GetTimestamp();
                if (now > hardStop)
                {
                    unsent = total - i;
                    break;
                }

                long due;
                while (i < total && (due = start + (long)(i * ticksPerRequest)) <= now + HalfMs)
                {
                    outstanding.AddCount();
                    _ = SendAsync(invoker, url, body, i - firstMeasured, due, latency, lag, ok, outstanding);
                    i++;
                }

                if (i == total)
                {
                    break;
                }

                var next = start + (long)(i * ticksPerRequest);
                now = Stopwatch.GetTimestamp();
                if (next - now > HalfMs)
                {
                    Thread.Sleep((int)Math.Max(1, (next - now) / OneMs));
                    if (i >= firstMeasured)
                    {
                        wakeLate.Add(Math.Max(0, Stopwatch.GetTimestamp() - next));
                    }
                }
            }
        })
        { IsBackground = true, Name = "rate pacer", Priority = ThreadPriority.AboveNormal };
        pacer.Start();
        pacer.Join();
        outstanding.Signal();
        var drained = outstanding.Wait(TimeSpan.FromSeconds(30));
        var end = Stopwatch.GetTimestamp();
        var cpu = (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds / Stopwatch.GetElapsedTime(start, end).TotalSeconds;

        // Requests still unanswered after 30 s (or never sent) count as errors; their slots stay out of the samples.
        var done = ok.Count(x => x);
        var samples = new long[done];
        var lags = new long[done];
        var service = new long[done];
        var n = 0;
        for (var k = 0; k < measured; k++)
        {
            if (ok[k])
            {
                samples[n] = latency[k];
                lags[n] = Math.Max(0, lag[k]);
                service[n] = latency[k] - Math.Max(0, lag[k]);
                n++;
            }
        }

        Array.Sort(samples);
        Array.Sort(lags);
        Array.Sort(service);
        var late = wakeLate.ToArray();
        Array.Sort(late);
        var windowStart = start + (long)(firstMeasured * ticksPerRequest);
        Output.Result(new
        {
            Kind = "rate",
            Url = url.ToString(),
            TargetRps = rps,
            AchievedRps = Math.Round(done / Stopwatch.GetElapsedTime(windowStart, LastEnd(latency, lag, ok, windowStart, ticksPerRequest, firstMeasured, start)).TotalSeconds, 1),
            Seconds = seconds,
            Connections = connections,
            Requests = measured,
            RequestsWithWarmup = total,
            Errors = measured - done - (int)Math.Min(unsent, measured),
            Unsent = unsent,
            Drained = drained,
            P50Ms = Ms(Output.Quantile(samples, 0.50)),
            P90Ms = Ms(Output.Quantile(samples, 0.90)),
            P99Ms = Ms(Output.Quantile(samples, 0.99)),
            P999Ms = Ms(Output.Quantile(samples, 0.999)),
            MaxMs = Ms(samples.Length == 0 ? double.NaN : samples[^1]),
            ServiceP50Ms = Ms(Output.Quantile(service, 0.50)),
            ServiceP99Ms = Ms(Output.Quantile(service, 0.99)),
            SendLagP99Ms = Ms(Output.Quantile(lags, 0.99)),
            WakeLateP99Ms = Ms(Output.Quantile(late, 0.99)),
            GeneratorCpuCores = Math.Round(cpu, 2),
        });
        return 0;
    }

    /// <summary>
    /// Sends request <paramref name="slot"/> (negative during the warm-up, which is not recorded) and records its
    /// latency from <paramref name="due"/>, or from its send when it went out early.
    /// </summary>
    private static async Task SendAsync(HttpMessageInvoker invoker, Uri url, byte[] body, long slot, long due,
        long[] latency, long[] lag, bool[] ok, CountdownEvent outstanding)
    {
        var sent = Stopwatch.GetTimestamp();
        try
        {
            var status = (int)await LoadClient.PostAsync(invoker, url, LoadClient.Content(body), CancellationToken.None);
            if (slot >= 0)
            {
                var end = Stopwatch.GetTimestamp();
                latency[slot] = end - Math.Min(due, sent); // from the due time when late, from the send when early
                lag[slot] = sent - due;
                ok[slot] = status is >= 200 and < 300;
            }
        }
        catch (HttpRequestException)
        {
            // Counted as an error: its slot stays not ok.
        }
        finally
        {
            outstanding.Signal();
        }
    }

    /// <summary>When the last recorded request ended: its due time (or send) plus its latency.</summary>
    private static long LastEnd(long[] latency, long[] lag, bool[] ok, long windowStart, double ticksPerRequest, long firstMeasured, long start)
    {
        var last = windowStart + 1;
        for (var k = 0; k < latency.Length; k++)
        {
            if (ok[k])
            {
                var due = start + (long)((k + firstMeasured) * ticksPerRequest);
                last = Math.Max(last, Math.Min(due, due + lag[k]) + latency[k]);
            }
        }

        return last;
    }

    private static double Ms(double ticks) => Math.Round(ticks * 1000.0 / Stopwatch.Frequency, 3);
}
