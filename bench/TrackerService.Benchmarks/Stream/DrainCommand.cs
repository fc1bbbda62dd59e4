using System.Buffers;
using System.Diagnostics;
using NATS.Client.Core;
using NATS.Client.JetStream;
using TrackerService.Loading;
using TrackerService.Pipeline;
using TrackerService.Streaming;

namespace TrackerService.Benchmarks.Stream;

/// <summary>
/// Fetch and ack only: what the loader's reading of the stream costs without its store. A fresh durable pull consumer
/// of the loader's configuration (<see cref="LoaderConsumer.Config"/>, named <c>consumer</c>) is read from the start
/// by as many loops as the loader runs (<see cref="DeliveryOptions.Consumers"/>), each fetching up to <c>FetchBatch</c>
/// messages, decoded by the loader's own deserializer (<see cref="StreamEntry"/>), then acking each of them as the
/// loader does; nothing is stored. The clock runs from the first fetch to the first poll of the consumer that shows
/// nothing pending and nothing awaiting an ack.
/// </summary>
/// <remarks>
/// The stream is read <c>passes</c> times, each by a consumer made afresh (the last one is deleted at the end), and
/// the last pass is reported: the first ones warm this process up (JIT), as the loader it is compared with has been.
/// Then once more with a deserializer that reads nothing (<see cref="Nothing"/>), the NATS client alone: the
/// difference is the decoding of the spill lines into events. With the NATS server's pid, its CPU time over each of
/// the two reported passes too.
/// </remarks>
internal static class DrainCommand
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(5);

    public static async Task<int> RunAsync(string url, string stream, string consumerName, int passes, int? natsPid)
    {
        await using var connection = BenchStream.Connect(url, stream, consumerName);
        await connection.EnsureStreamAsync(CancellationToken.None);
        for (var pass = 1; pass < passes; pass++)
        {
            Output.Progress($"drain: warm-up pass {pass} of {passes - 1}");
            await PassAsync(connection, StreamEntry.Serializer);
        }

        var nats = BenchStream.CpuSeconds(natsPid);
        var (total, seconds, cpu) = await PassAsync(connection, StreamEntry.Serializer);
        nats = BenchStream.CpuSeconds(natsPid) - nats;
        Output.Progress("drain: the client alone (nothing decoded)");
        var clientNats = BenchStream.CpuSeconds(natsPid);
        var (_, clientSeconds, clientCpu) = await PassAsync(connection, Nothing.Instance);
        clientNats = BenchStream.CpuSeconds(natsPid) - clientNats;
        await connection.JetStream.DeleteConsumerAsync(stream, consumerName);
        Output.Result(new
        {
            Kind = "drain",
            Events = total,
            Passes = passes,
            Seconds = Math.Round(seconds, 3),
            EventsPerS = Math.Round(total / seconds),
            ServerCpuS = Math.Round(cpu, 3),
            NatsCpuS = natsPid is null ? (double?)null : Math.Round(nats, 3),
            ClientOnlySeconds = Math.Round(clientSeconds, 3),
            ClientOnlyEventsPerS = Math.Round(total / clientSeconds),
            ClientOnlyCpuS = Math.Round(clientCpu, 3),
            ClientOnlyNatsCpuS = natsPid is null ? (double?)null : Math.Round(clientNats, 3),
        });
        return 0;
    }

    /// <summary>One read of the whole stream by a fresh consumer: the messages, the seconds it took, this process's CPU seconds over it.</summary>
    private static async Task<(long Total, double Seconds, double Cpu)> PassAsync<T>(JetStreamConnection connection, INatsDeserialize<T> deserializer)
    {
        var options = connection.Options;
        var js = connection.JetStream;
        try
        {
            await js.DeleteConsumerAsync(options.Stream, options.Consumer);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            // None yet.
        }

        var consumer = await js.CreateOrUpdateConsumerAsync(options.Stream, LoaderConsumer.Config(options));
        var total = (long)consumer.Info.NumPending;
        var fetched = 0L; // messages fetched and acked, over the loops
        using var done = new CancellationTokenSource();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, new DeliveryOptions().Consumers).Select(_ => Task.Run(async () =>
        {
            var fetch = new NatsJSFetchOpts { MaxMsgs = options.FetchBatch, Expires = options.FetchExpires };
            var batch = new List<INatsJSMsg<T>>(options.FetchBatch);
            try
            {
                while (Interlocked.Read(ref fetched) < total)
                {
                    batch.Clear();
                    await foreach (var message in consumer.FetchAsync(fetch, deserializer, done.Token))
                    {
                        batch.Add(message);
                    }

                    foreach (var message in batch)
                    {
                        await message.AckAsync();
                    }

                    if (Interlocked.Add(ref fetched, batch.Count) >= total)
                    {
                        await done.CancelAsync(); // the other loops' fetches, which would wait out their expiry
                    }
                }
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
                // Another loop acked the last of them.
            }
        })));

        // The acks are sent without waiting for an answer (as the loader's): done once the server has them all.
        while ((await js.GetConsumerAsync(options.Stream, options.Consumer)).Info is not { NumPending: 0, NumAckPending: 0 })
        {
            await Task.Delay(Poll);
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return (total, seconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
    }

    /// <summary>A deserializer that reads nothing: the message's payload is left in the client's buffer.</summary>
    private sealed class Nothing : INatsDeserialize<bool>
    {
        public static readonly Nothing Instance = new();

        public bool Deserialize(in ReadOnlySequence<byte> buffer) => true;
    }
}
