using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TrackerService.Events;
using TrackerService.Pipeline;
using TrackerService.Sinks;
using TrackerService.Streaming;
using TrackerService.Telemetry;

namespace TrackerService.Benchmarks.Stream;

/// <summary>
/// The raw publisher: what the stream takes when nothing else is in the way, the baseline of the JetStream sink's end
/// to end figure. The same client (NATS.Net, through the service's <see cref="JetStreamConnection"/>) publishes the
/// same messages as the sink (<see cref="StreamMessage"/>: subject per type, the spill line written by
/// <see cref="StreamMessageSerializer"/>, <c>Nats-Msg-Id</c>; one attempt each), pipelined with up to
/// <c>inFlight</c> acks outstanding, in one go; the clock stops when the last ack is in.
/// </summary>
/// <remarks>
/// The stream is created as the service creates it when missing, and purged first, so that it then holds exactly the
/// run's messages (checked). With <c>warmup</c>, as many other events are published first, untimed, and purged: the
/// sink it is compared with runs in a service already warmed up (JIT), and this process would otherwise be cold.
/// Only the events (<see cref="TrackedEvent"/>, as the intake holds them after parsing) are built before the clock
/// starts: each message's subject, headers and payload are made inside it, as the sink makes them. With the NATS
/// server's pid, its CPU time over the timed publish too. <c>--via-sink</c> publishes through the service's
/// <see cref="JetStreamSink"/> instead, in batches of <see cref="DeliveryOptions.BatchSize"/> from
/// <see cref="DeliveryOptions.Consumers"/> loops, as the intake's delivery hands them over: the sink without HTTP,
/// parsing or queue, which tells the sink's own cost from the rest of the service's.
/// </remarks>
internal static class PublishCommand
{
    /// <summary>One attempt per publish, as the sink's (it leaves retries to its resilience pipeline).</summary>
    private static readonly NatsJSPubOpts PublishOptions = new() { RetryAttempts = 1 };

    public static async Task<int> RunAsync(string url, string stream, int events, int inFlight, int warmup, int? natsPid, bool viaSink)
    {
        await using var connection = BenchStream.Connect(url, stream);
        connection.Options.MaxInFlight = inFlight;
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var telemetry = new TrackerTelemetry(services.GetRequiredService<IMeterFactory>());
        var sink = viaSink ? new JetStreamSink(connection, TimeProvider.System, telemetry, NullLogger<JetStreamSink>.Instance) : null;
        Func<TrackedEvent[], Task<(TimeSpan Elapsed, TimeSpan Cpu)>> publish =
            sink is null ? rows => PublishAsync(connection, rows, inFlight) : rows => ThroughSinkAsync(sink, rows);
        if (warmup > 0)
        {
            Output.Progress($"publish: warm-up, {warmup} events");
            await PrepareAsync(connection);
            await publish(BenchStream.Events(warmup, DateTimeOffset.UtcNow));
        }

        var rows = BenchStream.Events(events, DateTimeOffset.UtcNow);
        await PrepareAsync(connection);
        var nats = BenchStream.CpuSeconds(natsPid);
        var (elapsed, cpu) = await publish(rows);
        nats = BenchStream.CpuSeconds(natsPid) - nats;
        if (await CountAsync(connection) is var held && held != events)
        {
            Console.Error.WriteLine($"publish: FAILED: {events} publishes acked but the stream holds {held} messages");
            return 1;
        }

        Output.Result(new
        {
            Kind = sink is null ? "publish" : "publish-via-sink",
            Events = events,
            InFlight = inFlight,
            Warmup = warmup,
            Seconds = Math.Round(elapsed.TotalSeconds, 3),
            EventsPerS = Math.Round(events / elapsed.TotalSeconds),
            ServerCpuS = Math.Round(cpu.TotalSeconds, 3),
            NatsCpuS = natsPid is null ? (double?)null : Math.Round(nats, 3),
        });
        return 0;
    }

    /// <summary>Connects, creates the stream as the service does when it is missing, and purges it.</summary>
    public static async Task PrepareAsync(JetStreamConnection connection)
    {
        await connection.EnsureStreamAsync(CancellationToken.None);
        await connection.JetStream.PurgeStreamAsync(connection.Options.Stream, new StreamPurgeRequest());
    }

    /// <summary>Messages in the stream now.</summary>
    public static async Task<long> CountAsync(JetStreamConnection connection) =>
        (await connection.JetStream.GetStreamAsync(connection.Options.Stream)).Info.State.Messages;

    /// <summary>
    /// Publishes every event, at most <paramref name="inFlight"/> awaiting their acks at once, and waits for the last
    /// ack; a publish that fails or is acked as a duplicate fails the run. Returns the time taken and this process's CPU time over it.
    /// </summary>
    public static async Task<(TimeSpan Elapsed, TimeSpan Cpu)> PublishAsync(JetStreamConnection connection, TrackedEvent[] events, int inFlight)
    {
        using var window = new SemaphoreSlim(inFlight, inFlight);
        var acks = new Task[events.Length];
        var js = connection.JetStream;
        var options = connection.Options;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < events.Length; i++)
        {
            await window.WaitAsync();
            acks[i] = PublishOneAsync(js, options, events[i], window);
        }

        await Task.WhenAll(acks);
        clock.Stop();
        return (clock.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu);
    }

    /// <summary>The events through <see cref="JetStreamSink.WriteAsync"/>, in the batches and from the loops the intake's delivery uses.</summary>
    private static async Task<(TimeSpan Elapsed, TimeSpan Cpu)> ThroughSinkAsync(JetStreamSink sink, TrackedEvent[] events)
    {
        var delivery = new DeliveryOptions();
        var batches = events.Chunk(delivery.BatchSize).ToArray();
        var next = -1;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, delivery.Consumers).Select(_ => Task.Run(async () =>
        {
            int b;
            while ((b = Interlocked.Increment(ref next)) < batches.Length)
            {
                if (await sink.WriteAsync(batches[b], CancellationToken.None) != batches[b].Length)
                {
                    throw new InvalidOperationException($"batch {b}: the stream acked some of it as duplicates");
                }
            }
        })));
        clock.Stop();
        return (clock.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu);
    }

    private static async Task PublishOneAsync(INatsJSContext js, JetStreamOptions options, TrackedEvent e, SemaphoreSlim window)
    {
        try
        {
            var ack = await js.PublishAsync(StreamMessage.Subject(e, options), e, StreamMessageSerializer.Default, PublishOptions, StreamMessage.Headers(e));
            ack.EnsureSuccess(); // a duplicate throws too: the run's ids are its own, so one would be a wrong count
        }
        finally
        {
            window.Release();
        }
    }
}
