using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Polly;
using Polly.Retry;

namespace TrackerService.Streaming;

/// <summary>
/// The process's one NATS connection (to the seeds of <see cref="JetStreamOptions.Url"/>; the client learns the rest
/// of a cluster from them and moves to another node when one goes), and its JetStream context. Connected when first
/// used; reconnects for as long as the process runs.
/// </summary>
/// <remarks>
/// Disposed with the container, after the shutdown has spilled what it could not deliver: disposal flushes and closes
/// the socket, which a frozen or unreachable server would hold up, so it is given <see cref="DisposeBudget"/> and
/// then left to the process's exit.
/// </remarks>
internal sealed partial class JetStreamConnection : IAsyncDisposable
{
    /// <summary>Longest disposal waits for the connection to close.</summary>
    public static readonly TimeSpan DisposeBudget = TimeSpan.FromMilliseconds(500);

    /// <summary>The pause before the start asks JetStream again for a set-up it did not answer.</summary>
    private static readonly TimeSpan SetUpRetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly ILogger _logger;
    private readonly ResiliencePipeline _setUp;

    public JetStreamConnection(IOptions<JetStreamOptions> options, ILoggerFactory loggers)
    {
        Options = options.Value;
        _logger = loggers.CreateLogger<JetStreamConnection>();
        Connection = new NatsConnection(new NatsOpts
        {
            Url = string.Join(',', JetStreamOptionsValidator.Seeds(Options.Url)),
            Name = "TrackerService",
            LoggerFactory = loggers,

            // A publish's ack, and a JetStream API call, wait this long: what a batch may wait for its acks.
            RequestTimeout = Options.PublishTimeout,
            MaxReconnectRetry = -1, // a server that comes back is used again, however long it was away

            // A batch's publishes go out in a burst (up to MaxInFlight messages of about 1 KiB). The client's default
            // 64 KiB send buffer filled at once, and every publish behind it queued on the client's writer lock (a
            // waiter, a timer and a token registration each). With 1 MiB, and pooled writers for a window's
            // headers and payloads, the raw publisher went from about 37k to 62k messages/s here and the sink's
            // service end to end from about 24k to 31-40k events/s (A/B runs; docs/performance.md).
            WriterBufferSize = 1 << 20,
            ObjectPoolSize = 4096,
        });
        JetStream = new NatsJSContext(Connection);
        _setUp = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<JetStreamStartException>(e => e.Unanswered),
            MaxRetryAttempts = Math.Max(1, (int)(Options.StartTimeout / (Options.PublishTimeout + SetUpRetryDelay)) - 1),
            Delay = SetUpRetryDelay,
            BackoffType = DelayBackoffType.Constant,
            UseJitter = false,
            OnRetry = retry =>
            {
                LogSetUpUnanswered(_logger, retry.Outcome.Exception?.Message ?? "?", retry.AttemptNumber + 1);
                return default;
            },
        }).Build();
    }

    public JetStreamOptions Options { get; }

    public NatsConnection Connection { get; }

    public INatsJSContext JetStream { get; }

    /// <summary>Connects (when not yet connected) and creates or checks the stream (<see cref="JetStreamStream.EnsureAsync"/>).</summary>
    /// <exception cref="JetStreamStartException">The server can't be reached, or the stream can't be made to match the settings.</exception>
    public async Task EnsureStreamAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NatsException or TimeoutException or System.Net.Sockets.SocketException && !cancellationToken.IsCancellationRequested)
        {
            throw new JetStreamStartException($"NATS at {Options.Url} can't be reached: {e.Message}", e);
        }

        var info = await SetUpAsync(token => JetStreamStream.EnsureAsync(JetStream, Options, _logger, token), cancellationToken).ConfigureAwait(false);
        LogConnected(_logger, Connection.ServerInfo?.Name ?? "?", Connection.ServerInfo?.Version ?? "?", info.Config.Name!);
    }

    /// <summary>
    /// Runs a set-up step of the start (the stream's, a loader's consumer's) again while JetStream does not answer it
    /// (<see cref="JetStreamStartException.Unanswered"/>), each ask waiting <see cref="JetStreamOptions.PublishTimeout"/>,
    /// for about <see cref="JetStreamOptions.StartTimeout"/> in all; a refusal ends it at once.
    /// </summary>
    public async Task<T> SetUpAsync<T>(Func<CancellationToken, Task<T>> step, CancellationToken cancellationToken) =>
        await _setUp.ExecuteAsync(async token => await step(token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Connection.DisposeAsync().AsTask().WaitAsync(DisposeBudget).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LogDisposeAbandoned(_logger, DisposeBudget);
        }
    }

    [LoggerMessage(EventId = 803, Level = LogLevel.Information, Message = "Connected to NATS server {Server:l} (version {Version:l}); JetStream stream {Stream:l} ready")]
    private static partial void LogConnected(ILogger logger, string server, string version, string stream);

    [LoggerMessage(EventId = 805, Level = LogLevel.Warning, Message = "{Reason:l}; asking again (attempt {Attempt})")]
    private static partial void LogSetUpUnanswered(ILogger logger, string reason, int attempt);

    [LoggerMessage(EventId = 804, Level = LogLevel.Warning, Message = "The NATS connection did not close within {Budget}; left to the process's exit")]
    private static partial void LogDisposeAbandoned(ILogger logger, TimeSpan budget);
}
