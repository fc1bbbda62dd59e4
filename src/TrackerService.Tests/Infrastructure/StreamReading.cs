using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TrackerService.Events;
using TrackerService.Streaming;

namespace TrackerService.Tests.Infrastructure;

/// <summary>One message read back from a stream: what a loader gets.</summary>
internal sealed record StreamedMessage(string Subject, NatsHeaders? Headers, byte[] Payload)
{
    public string? MessageId => Headers is { } h && h.TryGetLastValue(StreamMessage.MessageIdHeader, out var id) ? id : null;

    public TrackedEvent? Event => StreamMessage.Decode(Payload);
}

/// <summary>Reads a JetStream stream back, as a test's check of what the JetStream sink published.</summary>
internal static class StreamReading
{
    /// <summary>Every message in the stream, in order (an ordered consumer of its own, which leaves the stream as it was).</summary>
    public static async Task<List<StreamedMessage>> ReadAllAsync(string url, string stream = "TRACKER_EVENTS")
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = url });
        var js = new NatsJSContext(nats);
        var count = (await js.GetStreamAsync(stream)).Info.State.Messages;
        var consumer = await js.CreateOrderedConsumerAsync(stream);
        var messages = new List<StreamedMessage>();
        using var patience = new CancellationTokenSource(Patience.Default);
        while (messages.Count < count)
        {
            var fetch = new NatsJSFetchOpts { MaxMsgs = (int)Math.Min(1000, count - messages.Count), Expires = TimeSpan.FromSeconds(1) };
            await foreach (var msg in consumer.FetchAsync<byte[]>(fetch, cancellationToken: patience.Token))
            {
                messages.Add(new StreamedMessage(msg.Subject, msg.Headers, msg.Data ?? []));
            }
        }

        return messages;
    }

    /// <summary>Messages in the stream now.</summary>
    public static async Task<long> CountAsync(string url, string stream = "TRACKER_EVENTS")
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = url });
        try
        {
            return (await new NatsJSContext(nats).GetStreamAsync(stream)).Info.State.Messages;
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            return 0;
        }
    }

    /// <summary>Waits until the stream holds <paramref name="expected"/> messages, and fails with how many it holds if it does not within the timeout.</summary>
    public static async Task WaitForCountAsync(string url, long expected, TimeSpan? timeout = null, string stream = "TRACKER_EVENTS")
    {
        long count = 0;
        var reached = await Eventually.TrueAsync(async () => (count = await CountAsync(url, stream)) >= expected, timeout ?? Patience.Default);
        Assert.True(reached, $"the stream holds {count} messages of {expected}");
    }

    /// <summary>A stream of the settings' shape, made by hand (as an operator, or another replica, would).</summary>
    public static async Task CreateAsync(string url, StreamConfig config)
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = url });
        await new NatsJSContext(nats).CreateStreamAsync(config);
    }
}
