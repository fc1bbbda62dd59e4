using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;

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

    private readonly ILogger _logger;

    public JetStreamConnection(IOptions<JetStreamOptions> options, ILoggerFactory loggers)
    {
        Options = options.Value;
        _logger = loggers.CreateLogger<JetStreamConnection>();
        Connection = new NatsConnection(new NatsOpts
        {
            Url = string.Join(',', JetStreamOptionsValidator.Seeds(Options.Url)),
            Name = "TrackerService",
            LoggerFactory = loggers,

            // A JetStream API call waits this long for its answer, and so would a publish's ack, but the sink closes
            // each batch's publish window sooner, after PublishTimeout.
            RequestTimeout = Options.ApiTimeout,
            MaxReconnectRetry = -1, // a server that comes back is used again, however long it was away
        });
        JetStream = new NatsJSContext(Connection);
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

        var info = await JetStreamStream.EnsureAsync(JetStream, Options, _logger, cancellationToken).ConfigureAwait(false);
        LogConnected(_logger, Connection.ServerInfo?.Name ?? "?", Connection.ServerInfo?.Version ?? "?", info.Config.Name!);
    }

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

    [LoggerMessage(EventId = 804, Level = LogLevel.Warning, Message = "The NATS connection did not close within {Budget}; left to the process's exit")]
    private static partial void LogDisposeAbandoned(ILogger logger, TimeSpan budget);
}
