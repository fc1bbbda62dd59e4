using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TrackerService.Streaming;

namespace TrackerService.Loading;

/// <summary>
/// The one durable pull consumer every loader shares (<see cref="JetStreamOptions.Consumer"/>): the stream hands each
/// message to one of them, and takes it as done only when that loader acks it (explicit acks). Created at start, or
/// bound to and brought in line with the settings when another loader made it first. Its lag (messages not yet
/// delivered, and delivered but not yet acked) is read every <see cref="LagInterval"/> for the metrics and the health check.
/// </summary>
internal sealed partial class LoaderConsumer(INatsJSConsumer consumer, TimeProvider time, ILogger logger)
{
    /// <summary>How often the consumer's lag is read from the server (one API call).</summary>
    public static readonly TimeSpan LagInterval = TimeSpan.FromSeconds(2);

    private long _pending = -1;
    private long _ackPending = -1;

    public INatsJSConsumer Consumer => consumer;

    /// <summary>Messages of the stream not yet delivered to any loader, as last read; -1 before the first read.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>Messages delivered to a loader and not yet acked, as last read; -1 before the first read.</summary>
    public long AckPending => Interlocked.Read(ref _ackPending);

    /// <summary>The consumer as the settings describe it. No <c>MaxDeliver</c>: a message is delivered until a loader stores it.</summary>
    public static ConsumerConfig Config(JetStreamOptions options) => new(options.Consumer)
    {
        FilterSubject = StreamMessage.StreamSubjects(options),
        AckPolicy = ConsumerConfigAckPolicy.Explicit,
        AckWait = options.AckWait,
        MaxAckPending = options.MaxAckPending,
        DeliverPolicy = ConsumerConfigDeliverPolicy.All,
        MaxDeliver = -1,
    };

    /// <summary>Creates the consumer, or binds to it and updates it to the settings.</summary>
    /// <exception cref="JetStreamStartException">JetStream refused the consumer, or did not answer.</exception>
    public static async Task<LoaderConsumer> BindAsync(JetStreamConnection stream, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var options = stream.Options;
        try
        {
            var consumer = await stream.JetStream.CreateOrUpdateConsumerAsync(options.Stream, Config(options), cancellationToken).ConfigureAwait(false);
            var bound = new LoaderConsumer(consumer, time, logger);
            bound.Read(consumer.Info);
            return bound;
        }
        catch (NatsJSApiException e)
        {
            throw new JetStreamStartException(
                $"JetStream refused consumer {options.Consumer} on stream {options.Stream}: {e.Error.Description} (error {e.Error.ErrCode})", e);
        }
        catch (Exception e) when (e is NatsException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new JetStreamStartException($"JetStream at {options.Url} did not answer for consumer {options.Consumer} on stream {options.Stream}: {e.Message}", e, unanswered: true);
        }
    }

    /// <summary>Reads the lag every <see cref="LagInterval"/> until <paramref name="cancellationToken"/> fires; a failed read keeps the last values.</summary>
    public async Task WatchLagAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(LagInterval, time);
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await consumer.RefreshAsync(cancellationToken).ConfigureAwait(false);
                    Read(consumer.Info);
                }
                catch (Exception e) when (e is NatsException or TimeoutException && !cancellationToken.IsCancellationRequested)
                {
                    LogLagUnread(logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private void Read(ConsumerInfo info)
    {
        Interlocked.Exchange(ref _pending, (long)Math.Min(info.NumPending, long.MaxValue));
        Interlocked.Exchange(ref _ackPending, info.NumAckPending);
    }

    [LoggerMessage(EventId = 858, Level = LogLevel.Debug, Message = "The loader's consumer could not be read for its lag: {Reason}")]
    private static partial void LogLagUnread(ILogger logger, string reason);
}
