using System.Net.Sockets;
using NATS.Client.Core;
using NATS.Client.JetStream;
using TrackerService.Events;
using TrackerService.Streaming;
using TrackerService.Telemetry;

namespace TrackerService.Sinks;

/// <summary>
/// The intake side of a scaled-out deployment: each event is published to the JetStream stream
/// (<see cref="StreamMessage"/>: a subject per type, its messageId as <c>Nats-Msg-Id</c>), and loaders write the
/// stream to a database. A batch's publishes are pipelined, up to <see cref="JetStreamOptions.MaxInFlight"/> awaiting
/// their acks at once over the process, and the batch counts as stored only once the stream has acked every one of
/// them (with replicas, after a quorum has it).
/// </summary>
/// <remarks>
/// Idempotent like the other stores: a copy within the stream's duplicate window is acked <c>Duplicate</c>, which
/// counts as done but not as newly stored; past the window, the loader's store keeps one by its unique messageId.
/// The stream not answering within <see cref="JetStreamOptions.PublishTimeout"/>, answering that nobody takes the
/// subject (no stream, no quorum: a leader election), or the connection being down, is an outage
/// (<see cref="IsTransient"/>): the resilience pipeline retries, then spills, and replay publishes again later.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification =
    "The semaphore holds no wait handle (AvailableWaitHandle is never read), so it has nothing to release; a publish abandoned at shutdown still releases it after the container is gone.")]
internal sealed partial class JetStreamSink : IEventSink
{
    /// <summary>JetStream's error code for a message over the stream's largest message.</summary>
    private const int MessageTooLarge = 10054;

    /// <summary>One attempt per publish: the resilience pipeline, not the client, decides about retries.</summary>
    private static readonly NatsJSPubOpts PublishOptions = new() { RetryAttempts = 1 };

    private readonly JetStreamConnection _stream;
    private readonly JetStreamOptions _options;
    private readonly SemaphoreSlim _inFlight;
    private readonly TimeProvider _time;
    private readonly TrackerTelemetry _telemetry;
    private readonly ILogger _logger;

    public JetStreamSink(JetStreamConnection stream, TimeProvider time, TrackerTelemetry telemetry, ILogger<JetStreamSink> logger)
    {
        _stream = stream;
        _options = stream.Options;
        _inFlight = new SemaphoreSlim(_options.MaxInFlight, _options.MaxInFlight);
        _time = time;
        _telemetry = telemetry;
        _logger = logger;
        telemetry.ObserveStreamInFlight(() => _options.MaxInFlight - _inFlight.CurrentCount);
    }

    public string Name => "jetstream";

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _stream.EnsureStreamAsync(cancellationToken).ConfigureAwait(false);
        LogReady(_logger, _options.Stream, _options.SubjectPrefix, _options.MaxInFlight, _options.PublishTimeout);
    }

    /// <returns>The events the stream newly took (not acked as duplicates).</returns>
    public Task<int> WriteAsync(IReadOnlyList<TrackedEvent> batch, CancellationToken cancellationToken) => PublishAsync(batch, cancellationToken);

    /// <summary>
    /// Each row as the rejected stand-in that carries it (<see cref="RejectedEvent.ToStandIn"/>) on the
    /// <c>.rejected</c> subject: the loader reads it back as that stand-in, and its store's writer turns it into the same row.
    /// </summary>
    public Task<int> RejectAsync(IReadOnlyList<RejectedEvent> rejected, CancellationToken cancellationToken) =>
        PublishAsync([.. rejected.Select(r => r.ToStandIn())], cancellationToken);

    /// <summary>
    /// An outage: no ack in time (<see cref="TimeoutException"/>: the publish window closed), nobody answering for
    /// the subject (no stream, no quorum), the connection lost, or the server saying it is unavailable (a 503).
    /// </summary>
    public bool IsTransient(Exception exception) => exception switch
    {
        TimeoutException or IOException or SocketException => true,
        NatsJSPublishNoResponseException or NatsNoRespondersException or NatsNoReplyException => true,
        NatsJSApiException api => api.Error.Code >= 500,
        NatsPayloadTooLargeException => false,
        NatsException { InnerException: IOException or SocketException or TimeoutException } => true,
        NatsJSException => false, // a protocol error or an answer it can't read: not something a retry fixes
        NatsException => true, // the client's own: connection closed, reconnecting, a command timed out
        _ => false,
    };

    /// <summary>
    /// A message the server refuses for its size: over the server's <c>max_payload</c> (the client knows it) or the
    /// stream's largest message. Events are at most 32 KiB and the stream is created without a message limit, so this
    /// takes a server set below them; the batch is then split, the rest stored, and that event's row published to
    /// <c>.rejected</c> (which, refused too, fails the batch like a broken store).
    /// </summary>
    public bool IsRefused(Exception exception) =>
        exception is NatsPayloadTooLargeException or NatsJSApiException { Error.ErrCode: MessageTooLarge };

    private async Task<int> PublishAsync(IReadOnlyList<TrackedEvent> events, CancellationToken cancellationToken)
    {
        // The window bounds the waits, not each publish: a publish ends by itself, acked or after the connection's
        // request timeout (PublishTimeout), and releases its permit then, even when the window or the shutdown has
        // already given up on its batch. Handing each publish a cancellable token cost the client a linked token
        // source and a registration per message: the sink's class alone went from about 0.86x of the raw
        // publisher's rate to about 1.0x without them (bench/run's jetstream section).
        using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        window.CancelAfter(_options.PublishTimeout);
        var started = _time.GetTimestamp();
        var acks = new Task<bool>[events.Count];
        var sent = 0;
        try
        {
            for (; sent < events.Count; sent++)
            {
                await _inFlight.WaitAsync(window.Token).ConfigureAwait(false);
                acks[sent] = PublishOneAsync(events[sent]);
            }
        }
        catch (OperationCanceledException)
        {
            // The window closed (or the shutdown came) before every publish went out: the batch fails below.
        }

        var pending = acks.AsSpan(0, sent).ToArray();
        await ((Task)Task.WhenAll(pending)).WaitAsync(window.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
        if (Failure(pending, events.Count) is { } failure)
        {
            throw failure;
        }

        _telemetry.StreamAcked(_time.GetElapsedTime(started));
        return pending.Count(duplicate => !duplicate.Result);
    }

    /// <returns>Whether the stream acked it as a duplicate.</returns>
    private async Task<bool> PublishOneAsync(TrackedEvent e)
    {
        try
        {
            var ack = await _stream.JetStream.PublishAsync(StreamMessage.Subject(e, _options), e, StreamMessageSerializer.Default,
                PublishOptions, StreamMessage.Headers(e), CancellationToken.None).ConfigureAwait(false);
            if (ack.Duplicate)
            {
                return true; // success, already in the stream (EnsureSuccess would throw NatsJSDuplicateMessageException)
            }

            ack.EnsureSuccess();
            return false;
        }
        finally
        {
            _inFlight.Release();
        }
    }

    /// <summary>
    /// Why the batch failed, or null when every publish was acked. An outage first (a retry is what the batch needs,
    /// whatever else went wrong), then a refusal (the writer splits the batch to find it), then anything else.
    /// </summary>
    private Exception? Failure(Task<bool>[] acks, int count)
    {
        var failures = acks.Where(t => !t.IsCompletedSuccessfully).ToArray(); // failed, or still waiting when the window closed
        if (failures.Length == 0 && acks.Length == count)
        {
            return null;
        }

        var errors = failures.Where(t => t.IsFaulted).Select(t => t.Exception!.GetBaseException()).ToArray();
        return errors.FirstOrDefault(IsTransient)
            ?? (failures.Any(t => !t.IsFaulted) || acks.Length < count
                ? new TimeoutException($"JetStream stream {_options.Stream} acked {acks.Length - failures.Length} of {count} publishes within {_options.PublishTimeout}")
                : null)
            ?? errors.FirstOrDefault(IsRefused)
            ?? errors[0];
    }

    [LoggerMessage(EventId = 810, Level = LogLevel.Information, Message = "JetStream sink ready: stream {Stream:l}, subjects {SubjectPrefix:l}.*, at most {MaxInFlight} publishes in flight, acks awaited {PublishTimeout}")]
    private static partial void LogReady(ILogger logger, string stream, string subjectPrefix, int maxInFlight, TimeSpan publishTimeout);
}
