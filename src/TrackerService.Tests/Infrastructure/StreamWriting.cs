using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TrackerService.Events;
using TrackerService.Sinks;
using TrackerService.Streaming;
using TrackerService.Telemetry;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Fills a JetStream stream as the intake does (through the real <see cref="JetStreamSink"/>), or with raw messages, and reads a consumer's state: what a loader test sets up and checks.</summary>
internal static class StreamWriting
{
    /// <summary>Publishes the events as the JetStream sink does (the stream is created first), stand-ins on <c>.rejected</c> as its writer sends them.</summary>
    public static async Task PublishAsync(string url, IReadOnlyList<TrackedEvent> events, JetStreamOptions? options = null)
    {
        options ??= new JetStreamOptions();
        options.Url = url;
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        await using var connection = new JetStreamConnection(Microsoft.Extensions.Options.Options.Create(options), NullLoggerFactory.Instance);
        var sink = new JetStreamSink(connection, TimeProvider.System, new TrackerTelemetry(services.GetRequiredService<IMeterFactory>()), NullLogger<JetStreamSink>.Instance);
        await sink.InitializeAsync(default);
        foreach (var chunk in events.Chunk(500))
        {
            await sink.WriteAsync([.. chunk.Where(e => e.Rejection is null)], default);
            var standIns = chunk.Where(e => e.Rejection is not null).Select(e => RejectedEvent.FromStandIn(e, e.Rejection!)).ToList();
            if (standIns.Count > 0)
            {
                await sink.RejectAsync(standIns, default);
            }
        }
    }

    /// <summary>Publishes one message of any payload to the stream (which must exist), as something other than the intake might.</summary>
    public static async Task PublishRawAsync(string url, string subject, byte[] payload, string? messageId = null)
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = url });
        var headers = messageId is null ? null : new NatsHeaders { [StreamMessage.MessageIdHeader] = messageId };
        var ack = await new NatsJSContext(nats).PublishAsync(subject, payload, headers: headers);
        ack.EnsureSuccess();
    }

    /// <summary>The loaders' consumer as the server sees it now: pending, ack pending, the ack floor.</summary>
    public static async Task<ConsumerInfo> ConsumerAsync(string url, string consumer = "tracker-loader", string stream = "TRACKER_EVENTS")
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = url });
        return (await new NatsJSContext(nats).GetConsumerAsync(stream, consumer)).Info;
    }

    /// <summary>Waits until the consumer has nothing pending and nothing awaiting an ack: every message loaded and acked.</summary>
    public static async Task WaitForAllAckedAsync(string url, TimeSpan? timeout = null)
    {
        ConsumerInfo? info = null;
        var done = await Eventually.TrueAsync(async () => (info = await ConsumerAsync(url)) is { NumPending: 0, NumAckPending: 0 }, timeout ?? Patience.Default);
        Assert.True(done, $"the consumer still has {info?.NumPending} pending and {info?.NumAckPending} awaiting ack");
    }
}
