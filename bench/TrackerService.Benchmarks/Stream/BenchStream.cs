using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using TrackerService.Events;
using TrackerService.Streaming;

namespace TrackerService.Benchmarks.Stream;

/// <summary>
/// What the stream commands share: the service's own <see cref="JetStreamConnection"/> (the same NATS.Net options, the
/// same stream configuration when it creates it), the sample events as the intake holds them, and a process's CPU
/// time read from <c>/proc</c>, for the figures that must be taken over a phase only the command knows the limits of.
/// </summary>
internal static class BenchStream
{
    /// <summary>The kernel's unit for utime and stime in <c>/proc/PID/stat</c> (USER_HZ, 100 on every Linux the service runs on).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>A connection to <paramref name="url"/> for stream <paramref name="stream"/>, the rest of the settings the defaults.</summary>
    public static JetStreamConnection Connect(string url, string stream, string? consumer = null)
    {
        var options = new JetStreamOptions { Url = url, Stream = stream };
        if (consumer is not null)
        {
            options.Consumer = consumer;
        }

        return new JetStreamConnection(Microsoft.Extensions.Options.Options.Create(options), NullLoggerFactory.Instance);
    }

    /// <summary>
    /// <paramref name="events"/> sample events with message ids unique to the run, received at <paramref name="receivedAt"/>,
    /// built before any clock starts (as <c>RawWriteCommands</c> builds its rows).
    /// </summary>
    public static TrackedEvent[] Events(int events, DateTimeOffset receivedAt)
    {
        var prefix = SampleEvents.NewPrefix();
        return [.. Enumerable.Range(0, events).Select(i => SampleEvents.Tracked(SampleEvents.Id(prefix, i), i, receivedAt))];
    }

    /// <summary>The CPU time (user + system) process <paramref name="pid"/> has used so far, in seconds; 0 when it can't be read or there is no pid.</summary>
    public static double CpuSeconds(int? pid)
    {
        if (pid is null)
        {
            return 0;
        }

        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The fields after the command name in parentheses (which may hold spaces): state is the first, utime the 12th, stime the 13th.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
