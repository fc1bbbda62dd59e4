using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace TrackerService.Streaming;

/// <summary>
/// The stream of <see cref="JetStreamOptions"/>, made to match the settings at start: created when missing (file
/// storage, old messages discarded at the limits); when it exists, what JetStream lets change in place is changed
/// (subjects, replicas, duplicate window, age and size limits), and what it does not (retention, storage) stops the
/// start with one line that says so, since deleting a stream of events to recreate it is an operator's decision.
/// </summary>
/// <remarks>
/// Subjects are added, never removed: a stream an operator also feeds from other subjects keeps them. Intake replicas
/// and loaders that start together may each try to create it; the one that loses reads it back and checks it.
/// </remarks>
internal static partial class JetStreamStream
{
    /// <summary>JetStream's error code for "stream not found".</summary>
    private const int StreamNotFound = 10059;

    /// <summary>JetStream's error code for "stream name already in use with a different configuration".</summary>
    private const int StreamNameInUse = 10058;

    /// <summary>The stream as the settings describe it.</summary>
    public static StreamConfig Config(JetStreamOptions options) => new(options.Stream, [StreamMessage.StreamSubjects(options)])
    {
        NumReplicas = options.Replicas,
        DuplicateWindow = options.DuplicateWindow,
        MaxAge = options.MaxAge,
        MaxBytes = options.MaxBytes,
        Retention = Retention(options.Retention),
        Storage = StreamConfigStorage.File,
        Discard = StreamConfigDiscard.Old,
    };

    /// <summary>Creates the stream, or brings the existing one in line with the settings.</summary>
    /// <exception cref="JetStreamStartException">The stream differs in what can't be changed, or the server refused the change or did not answer.</exception>
    public static async Task<StreamInfo> EnsureAsync(INatsJSContext js, JetStreamOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var wanted = Config(options);
        try
        {
            var existing = await GetAsync(js, options.Stream, cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                try
                {
                    var created = await js.CreateStreamAsync(wanted, cancellationToken).ConfigureAwait(false);
                    LogCreated(logger, options.Stream, options.SubjectPrefix, options.Replicas, options.Retention);
                    return created.Info;
                }
                catch (NatsJSApiException e) when (e.Error.ErrCode == StreamNameInUse)
                {
                    existing = await GetAsync(js, options.Stream, cancellationToken).ConfigureAwait(false)
                        ?? throw new JetStreamStartException($"JetStream stream {options.Stream} could not be created: {e.Error.Description}", e);
                }
            }

            return await CheckAsync(js, existing, wanted, logger, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException e)
        {
            throw new JetStreamStartException($"JetStream refused stream {options.Stream} ({StreamMessage.StreamSubjects(options)}, {options.Replicas} replicas): {e.Error.Description} (error {e.Error.ErrCode})", e);
        }
        catch (Exception e) when (e is NatsException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new JetStreamStartException($"JetStream at {options.Url} did not answer for stream {options.Stream}: {e.Message}", e, unanswered: true);
        }
    }

    private static async Task<StreamInfo> CheckAsync(INatsJSContext js, StreamInfo existing, StreamConfig wanted, ILogger logger, CancellationToken cancellationToken)
    {
        var actual = existing.Config;
        if (actual.Retention != wanted.Retention || actual.Storage != wanted.Storage)
        {
            throw new JetStreamStartException(
                $"JetStream stream {wanted.Name} has retention {actual.Retention} and storage {actual.Storage}, the settings want {wanted.Retention} "
                + $"and {wanted.Storage}, which JetStream can't change in place: set {JetStreamOptions.Section}:{nameof(JetStreamOptions.Retention)} "
                + $"to the stream's, or delete the stream (nats stream rm {wanted.Name}) once the loaders have emptied it");
        }

        var subjects = (actual.Subjects ?? []).Union(wanted.Subjects!).ToList();
        if (subjects.Count == (actual.Subjects?.Count ?? 0) && actual.NumReplicas == wanted.NumReplicas && actual.DuplicateWindow == wanted.DuplicateWindow
            && actual.MaxAge == wanted.MaxAge && actual.MaxBytes == wanted.MaxBytes)
        {
            LogFound(logger, wanted.Name!, actual.NumReplicas, existing.State.Messages);
            return existing;
        }

        actual.Subjects = subjects;
        actual.NumReplicas = wanted.NumReplicas;
        actual.DuplicateWindow = wanted.DuplicateWindow;
        actual.MaxAge = wanted.MaxAge;
        actual.MaxBytes = wanted.MaxBytes;
        var updated = await js.UpdateStreamAsync(actual, cancellationToken).ConfigureAwait(false);
        LogUpdated(logger, wanted.Name!, string.Join(", ", subjects), wanted.NumReplicas, wanted.DuplicateWindow, wanted.MaxAge, wanted.MaxBytes);
        return updated.Info;
    }

    private static async Task<StreamInfo?> GetAsync(INatsJSContext js, string name, CancellationToken cancellationToken)
    {
        try
        {
            return (await js.GetStreamAsync(name, request: null, cancellationToken).ConfigureAwait(false)).Info;
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == StreamNotFound)
        {
            return null;
        }
    }

    private static StreamConfigRetention Retention(StreamRetention retention) => retention switch
    {
        StreamRetention.WorkQueue => StreamConfigRetention.Workqueue,
        StreamRetention.Interest => StreamConfigRetention.Interest,
        _ => StreamConfigRetention.Limits,
    };

    [LoggerMessage(EventId = 800, Level = LogLevel.Information, Message = "JetStream stream {Stream:l} created: subjects {SubjectPrefix:l}.>, {Replicas} replicas, retention {Retention}")]
    private static partial void LogCreated(ILogger logger, string stream, string subjectPrefix, int replicas, StreamRetention retention);

    [LoggerMessage(EventId = 801, Level = LogLevel.Information, Message = "JetStream stream {Stream:l} found as configured: {Replicas} replicas, {Messages} messages")]
    private static partial void LogFound(ILogger logger, string stream, int replicas, long messages);

    [LoggerMessage(EventId = 802, Level = LogLevel.Warning, Message = "JetStream stream {Stream:l} updated to the settings: subjects {Subjects:l}, {Replicas} replicas, duplicate window {DuplicateWindow}, max age {MaxAge}, max bytes {MaxBytes}")]
    private static partial void LogUpdated(ILogger logger, string stream, string subjects, int replicas, TimeSpan duplicateWindow, TimeSpan maxAge, long maxBytes);
}

/// <summary>The stream can't be used as the settings say (it differs in what can't change, or the server refused or did not answer): the service does not start.</summary>
/// <param name="unanswered">JetStream did not answer in time (rather than refused): asking again may do (<see cref="JetStreamConnection.SetUpAsync{T}"/>).</param>
internal sealed class JetStreamStartException(string message, Exception? inner = null, bool unanswered = false) : Exception(message, inner)
{
    public bool Unanswered { get; } = unanswered;
}
