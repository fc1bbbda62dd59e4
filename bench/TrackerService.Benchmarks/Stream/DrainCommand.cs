using System.Diagnostics;
using NATS.Client.JetStream;
using TrackerService.Loading;
using TrackerService.Pipeline;

namespace TrackerService.Benchmarks.Stream;

/// <summary>
/// Fetch and ack only: what the loader's reading of the stream costs without its store. A fresh durable pull consumer
/// of the loader's configuration (<see cref="LoaderConsumer.Config"/>, named <c>consumer</c>, deleted first when it
/// exists) is read from the start by as many loops as the loader runs (<see cref="DeliveryOptions.Consumers"/>), each
/// fetching up to <c>FetchBatch</c> messages, decoded by the loader's own deserializer (<see cref="StreamEntry"/>),
/// then acking each of them as the loader does; nothing is stored. The clock runs from the first fetch to the first
/// poll of the consumer that shows nothing pending and nothing awaiting an ack.
/// </summary>
internal static class DrainCommand
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(5);

    public static async Task<int> RunAsync(string url, string stream, string consumerName)
    {
        await using var connection = BenchStream.Connect(url, stream, consumerName);
        var options = connection.Options;
        var js = connection.JetStream;
        await connection.EnsureStreamAsync(CancellationToken.None);
        try
        {
            await js.DeleteConsumerAsync(stream, consumerName);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            // None yet.
        }

        var consumer = await js.CreateOrUpdateConsumerAsync(stream, LoaderConsumer.Config(options));
        var total = (long)consumer.Info.NumPending;
        var fetched = 0L;
        using var done = new CancellationTokenSource();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, new DeliveryOptions().Consumers).Select(_ => Task.Run(async () =>
        {
            var fetch = new NatsJSFetchOpts { MaxMsgs = options.FetchBatch, Expires = options.FetchExpires };
            var batch = new List<INatsJSMsg<StreamEntry>>(options.FetchBatch);
            try
            {
                while (Interlocked.Read(ref fetched) < total)
                {
                    batch.Clear();
                    await foreach (var message in consumer.FetchAsync(fetch, StreamEntry.Serializer, done.Token))
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
        while ((await js.GetConsumerAsync(stream, consumerName)).Info is not { NumPending: 0, NumAckPending: 0 })
        {
            await Task.Delay(Poll);
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        await js.DeleteConsumerAsync(stream, consumerName);
        Output.Result(new
        {
            Kind = "drain",
            Events = total,
            Fetched = fetched,
            Seconds = Math.Round(seconds, 3),
            EventsPerS = Math.Round(total / seconds),
            ServerCpuS = Math.Round(cpuSeconds, 3),
        });
        return 0;
    }
}
