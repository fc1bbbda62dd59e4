using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TrackerService.Telemetry;

/// <summary>
/// Owns every telemetry name of the service: the <see cref="ActivitySource"/>, the <see cref="Meter"/>
/// and its instruments. Nobody else spells them.
/// </summary>
internal sealed class TrackerTelemetry : IDisposable
{
    public const string Name = "TrackerService";

    private readonly Meter _meter;
    private readonly Counter<long> _accepted;
    private long _acceptedTotal;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _spilled;
    private readonly Counter<long> _replayed;
    private readonly Counter<long> _spillLinesSkipped;
    private readonly Histogram<double> _batchDuration;
    private readonly Counter<long> _spillSegmentsSetAside;
    private readonly Counter<long> _spillLost;
    private readonly Histogram<int> _walCommitAppends;
    private readonly Histogram<long> _walCommitBytes;
    private readonly Histogram<double> _walSyncDuration;
    private readonly Counter<long> _walRecovered;
    private readonly Counter<long> _walSetAside;
    private readonly Histogram<double> _streamAcks;
    private readonly Counter<long> _loaded;
    private readonly Counter<long> _redelivered;
    private readonly Counter<long> _undecodable;
    private readonly Histogram<double> _loadDuration;

    public TrackerTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Name);
        _accepted = _meter.CreateCounter<long>("tracker.events.accepted", "{event}", "Events answered 202 and queued.");
        _rejected = _meter.CreateCounter<long>("tracker.events.rejected", "{event}", "Events refused, by reason.");
        _stored = _meter.CreateCounter<long>("tracker.events.stored", "{event}", "Events newly written to the store.");
        _duplicates = _meter.CreateCounter<long>("tracker.events.duplicates", "{event}",
            "Events written whose messageId the store already held (a resend, a redelivery, a replay), skipped.");
        _spilled = _meter.CreateCounter<long>("tracker.events.spilled", "{event}", "Accepted events written to the local spill.");
        _replayed = _meter.CreateCounter<long>("tracker.events.replayed", "{event}", "Spilled events written to the store by replay.");
        _spillLinesSkipped = _meter.CreateCounter<long>("tracker.spill.lines_skipped", "{line}", "Torn spill lines skipped on replay.");
        _spillSegmentsSetAside = _meter.CreateCounter<long>("tracker.spill.segments_set_aside", "{segment}", "Spill segments replay could not read or account for whole, kept aside, by reason.");
        _spillLost = _meter.CreateCounter<long>("tracker.spill.events_lost", "{event}", "Accepted events the shutdown spill could not write by its deadline.");
        _batchDuration = _meter.CreateHistogram<double>("tracker.batch.duration", "s", "Time to write one batch to the store, retries included.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _walCommitAppends = _meter.CreateHistogram<int>("tracker.wal.commit.appends", "{append}", "Appends (requests) made durable by one write-ahead log sync: group commit at work.",
            tags: null, advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });
        _walCommitBytes = _meter.CreateHistogram<long>("tracker.wal.commit.bytes", "By", "Bytes written by one write-ahead log commit.");
        _walSyncDuration = _meter.CreateHistogram<double>("tracker.wal.sync.duration", "s", "Time of one write-ahead log fsync.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] });
        _walRecovered = _meter.CreateCounter<long>("tracker.wal.recovered", "{record}", "Unconfirmed records the write-ahead log found at open, delivered again.");
        _streamAcks = _meter.CreateHistogram<double>("tracker.jetstream.acks.duration", "s", "Time from a batch's first publish to the stream's last ack for it.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _loaded = _meter.CreateCounter<long>("tracker.loader.loaded", "{message}", "Stream messages the loader wrote to the store (events, and dead-letter rows) and then acked.");
        _redelivered = _meter.CreateCounter<long>("tracker.loader.redelivered", "{message}",
            "Stream messages delivered to a loader more than once: a loader died, took longer than AckWait, or handed them back.");
        _undecodable = _meter.CreateCounter<long>("tracker.loader.undecodable", "{message}", "Stream messages that were no event, kept in rejected_events with their payload and acked.");
        _loadDuration = _meter.CreateHistogram<double>("tracker.loader.batch.duration", "s", "Time from a loaded batch's fetch to its acks: the store's write, retries included, and the acks.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _walSetAside = _meter.CreateCounter<long>("tracker.wal.set_aside", "{segment}", "Write-ahead log segments (corrupt) or torn tails (torn) kept in corrupt/ at open, by reason.");
    }

    /// <summary>Publishes the write-ahead log's bytes and segments, read when metrics are collected.</summary>
    public void ObserveWal(Func<long> bytes, Func<int> segments)
    {
        _meter.CreateObservableGauge("tracker.wal.bytes", bytes, "By", "Bytes of the write-ahead log's segments.");
        _meter.CreateObservableGauge("tracker.wal.segments", segments, "{segment}", "Segment files of the write-ahead log.");
    }

    public void WalCommitted(int appends, long bytes, TimeSpan sync)
    {
        _walCommitAppends.Record(appends);
        _walCommitBytes.Record(bytes);
        _walSyncDuration.Record(sync.TotalSeconds);
    }

    public void WalRecovered(int records)
    {
        if (records > 0)
        {
            _walRecovered.Add(records);
        }
    }

    /// <param name="reason"><see cref="WalCorrupt"/> or <see cref="WalTorn"/>.</param>
    public void WalSetAside(string reason) => _walSetAside.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public const string WalCorrupt = "corrupt";
    public const string WalTorn = "torn";

    public static ActivitySource ActivitySource { get; } = new(Name);

    /// <summary>Publishes the store's circuit: 0 closed, 1 half-open (probing), 2 open or isolated.</summary>
    public void ObserveCircuit(Func<int> state) =>
        _meter.CreateObservableGauge("tracker.sink.circuit_state", state, null, "The store's circuit: 0 closed, 1 half-open, 2 open.");

    /// <summary>Publishes the queue's depth and capacity, read when metrics are collected.</summary>
    public void ObserveQueue(Func<int> depth, int capacity)
    {
        _meter.CreateObservableUpDownCounter("tracker.queue.depth", () => depth(), "{event}", "Events waiting in the queue.");
        _meter.CreateObservableUpDownCounter("tracker.queue.capacity", () => capacity, "{event}", "Most events the queue holds.");
    }

    /// <summary>Publishes what the queue's events take in memory (queued, and held by consumers until stored or spilled) and the most they may.</summary>
    public void ObserveQueueMemory(Func<long> bytes, long maxBytes)
    {
        _meter.CreateObservableUpDownCounter("tracker.queue.memory", () => bytes(), "By", "Memory the queued events and those consumers hold take.");
        _meter.CreateObservableUpDownCounter("tracker.queue.memory_limit", () => maxBytes, "By", "Most memory the queue's events may take.");
    }

    public void Accepted(int count)
    {
        Interlocked.Add(ref _acceptedTotal, count);
        _accepted.Add(count);
    }

    /// <summary>
    /// Events answered 202 since the process started (what <c>tracker.events.accepted</c> has counted), for the
    /// shutdown's last line: the metric goes with the process, and this is what a reconciliation across replicas needs.
    /// </summary>
    public long AcceptedTotal => Interlocked.Read(ref _acceptedTotal);

    /// <param name="reason">One of the <c>Reason*</c> constants.</param>
    public void Rejected(int count, string reason) => _rejected.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void Stored(int count) => _stored.Add(count);

    /// <summary>Events of a confirmed write that the store already held, so were not stored again.</summary>
    public void Duplicates(int count)
    {
        if (count > 0)
        {
            _duplicates.Add(count);
        }
    }

    public void Spilled(int count) => _spilled.Add(count);

    public void Replayed(int count) => _replayed.Add(count);

    public void SpillLinesSkipped(int count) => _spillLinesSkipped.Add(count);

    /// <param name="reason"><see cref="SpillUnreadable"/> or <see cref="SpillCorrupt"/>.</param>
    public void SpillSegmentSetAside(string reason) => _spillSegmentsSetAside.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void SpillLost(int count) => _spillLost.Add(count);

    public void BatchWritten(TimeSpan duration) => _batchDuration.Record(duration.TotalSeconds);

    /// <summary>Every publish of a batch was acked by the stream, <paramref name="duration"/> after the first was sent.</summary>
    public void StreamAcked(TimeSpan duration) => _streamAcks.Record(duration.TotalSeconds);

    /// <summary>Publishes the JetStream sink's publishes awaiting their ack, read when metrics are collected.</summary>
    public void ObserveStreamInFlight(Func<int> inFlight) =>
        _meter.CreateObservableUpDownCounter("tracker.jetstream.in_flight", inFlight, "{message}", "Publishes sent to the stream and awaiting their ack.");

    /// <summary>Publishes the loaders' consumer's lag as last read: messages not yet delivered, and delivered but not yet acked (-1 before the first read).</summary>
    public void ObserveLoaderLag(Func<long> pending, Func<long> ackPending)
    {
        _meter.CreateObservableGauge("tracker.loader.pending", pending, "{message}", "Stream messages not yet delivered to any loader (the consumer's NumPending).");
        _meter.CreateObservableGauge("tracker.loader.ack_pending", ackPending, "{message}", "Stream messages delivered to a loader and not yet acked (the consumer's NumAckPending).");
    }

    /// <summary>A batch of <paramref name="count"/> messages stored and acked, <paramref name="duration"/> after it was fetched.</summary>
    public void Loaded(int count, TimeSpan duration)
    {
        _loaded.Add(count);
        _loadDuration.Record(duration.TotalSeconds);
    }

    public void Redelivered(int count) => _redelivered.Add(count);

    public void Undecodable(int count) => _undecodable.Add(count);

    public void Dispose() => _meter.Dispose();

    /// <summary>
    /// Starts the span of one batch write: a root span (or, during a shutdown's drain, a child of the
    /// <c>tracker.shutdown</c> span) linked to the request spans whose events it carries. The outcome and the
    /// attempt count are set by the writer; null when nobody listens. <paramref name="requests"/> is 0 when
    /// the origin is unknown (replayed events).
    /// </summary>
    public static Activity? StartBatch(int size, int requests, IEnumerable<ActivityLink>? links, ActivityContext parent = default)
    {
        var activity = ActivitySource.StartActivity(SpanBatch, ActivityKind.Consumer, parent, tags: null, links);
        activity?.SetTag(TagBatchSize, size);
        if (requests > 0)
        {
            activity?.SetTag(TagBatchRequests, requests);
        }

        return activity;
    }

    /// <summary>Ends a batch span with its outcome (one of the <c>Outcome*</c> constants).</summary>
    public static void SetOutcome(Activity? activity, string outcome, Exception? exception = null)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(TagBatchOutcome, outcome);
        if (exception is not null)
        {
            activity.AddException(exception);
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        }
    }

    public const string SpanShutdown = "tracker.shutdown";
    public const string SpanBatch = "tracker.batch";
    public const string SpanSpillWrite = "tracker.spill.write";
    public const string SpanReplay = "tracker.spill.replay";

    public const string EventReadinessOff = "readiness.off";
    public const string EventIntakeStopped = "intake.stopped";
    public const string EventQueueCompleted = "queue.completed";
    public const string EventDeadlineReached = "deadline.reached";
    public const string EventDrainFinished = "drain.finished";
    public const string EventSpillWritten = "spill.written";

    /// <summary>The loader's shutdown: no new fetch starts.</summary>
    public const string EventFetchingStopped = "fetching.stopped";

    public const string TagShutdownDeadlineMs = "tracker.shutdown.deadline_ms";
    public const string TagShutdownQueuedAtStart = "tracker.shutdown.queued_at_start";
    public const string TagShutdownDrained = "tracker.shutdown.drained";
    public const string TagShutdownSpilled = "tracker.shutdown.spilled";
    public const string TagShutdownElapsedMs = "tracker.shutdown.elapsed_ms";
    public const string TagShutdownOutcome = "tracker.shutdown.outcome";

    /// <summary>Events left at shutdown that the spill could not write by the deadline (a full or failing disk): lost.</summary>
    public const string TagShutdownLost = "tracker.shutdown.lost";

    /// <summary>Disk durability: events not stored by the end of the drain, left in the write-ahead log (none spilled).</summary>
    public const string TagShutdownLeftInLog = "tracker.shutdown.left_in_log";

    /// <summary>Disk durability: the write-ahead log's unconfirmed records (requests) at the end of the drain, delivered at the next start.</summary>
    public const string TagShutdownLogRecords = "tracker.shutdown.log_records";

    /// <summary>Disk durability: the write-ahead log's bytes at the end of the drain.</summary>
    public const string TagShutdownLogBytes = "tracker.shutdown.log_bytes";

    /// <summary>Messages a loader handed back to the stream (nak) during its shutdown, for another loader to take.</summary>
    public const string TagShutdownHandedBack = "tracker.shutdown.handed_back";

    /// <summary>The shutdown ran out of budget before the queue was empty; the rest was spilled.</summary>
    public const string ShutdownDeadlineReached = "deadline_reached";

    /// <summary>Everything queued was stored before the deadline.</summary>
    public const string ShutdownDrained = "drained";

    public const string TagSink = "tracker.sink";
    public const string TagBatchSize = "tracker.batch.size";
    public const string TagBatchRequests = "tracker.batch.requests";
    public const string TagBatchAttempts = "tracker.batch.attempts";
    public const string TagBatchStored = "tracker.batch.stored";
    public const string TagBatchRefused = "tracker.batch.refused";
    public const string TagBatchOutcome = "tracker.batch.outcome";

    /// <summary>A loaded batch's messages that the stream had delivered before.</summary>
    public const string TagBatchRedelivered = "tracker.batch.redelivered";
    public const string TagSpillEvents = "tracker.spill.events";
    public const string TagSpillBytes = "tracker.spill.bytes";
    public const string TagSpillSegment = "tracker.spill.segment";

    /// <summary>The store confirmed the batch.</summary>
    public const string OutcomeStored = "stored";

    /// <summary>The store was unavailable; the batch went to the spill for replay.</summary>
    public const string OutcomeSpilled = "spilled";

    /// <summary>The shutdown deadline cut the write short; the batch was handed to the drain's spill.</summary>
    public const string OutcomeCancelled = "cancelled";

    /// <summary>A loader's batch the store did not commit (unavailable, or the shutdown's drain ended): handed back to the stream (nak), acked never.</summary>
    public const string OutcomeHandedBack = "handed_back";

    /// <summary>
    /// The write failed: from a consumer, in a way no retry fixes (the service stops and the drain spills the
    /// batch); from replay, the segment stays for the next pass.
    /// </summary>
    public const string OutcomeFailed = "failed";

    /// <summary>The store refused the event for its data (a write split to find it); kept in the dead-letter table.</summary>
    public const string ReasonStoreRefused = "store_refused";

    /// <summary>A spilled event that breaks the intake's rules (a spill written by an older version, or by hand); kept in the dead-letter table.</summary>
    public const string ReasonReplayInvalid = "replay_invalid";

    /// <summary>A spill segment that could not be opened or read.</summary>
    public const string SpillUnreadable = "unreadable";

    /// <summary>A spill segment with bytes that are not events (a torn, garbled or too-long line).</summary>
    public const string SpillCorrupt = "corrupt";

    public const string ReasonInvalid = "invalid";
    public const string ReasonMalformed = "malformed";
    public const string ReasonTooLarge = "too_large";
    public const string ReasonUnsupportedMediaType = "unsupported_media_type";
    public const string ReasonQueueFull = "queue_full";
    public const string ReasonShuttingDown = "shutting_down";
    public const string ReasonLogUnavailable = "log_unavailable";
    public const string ReasonClientAborted = "client_aborted";
    public const string ReasonIncompleteBody = "incomplete_body";

    /// <summary>No write key, or one that is unknown, disabled or unreadable (401).</summary>
    public const string ReasonUnauthorized = "unauthorized";

    /// <summary>The write key's token bucket was empty (429).</summary>
    public const string ReasonRateLimited = "rate_limited";

    /// <summary>The write key does not take requests from the request's <c>Origin</c> (403).</summary>
    public const string ReasonOriginForbidden = "origin_forbidden";
}

// Over 200 lines: every span, metric, tag and reason name of the service is here on purpose, in one place, so
// dashboards and docs/observability.md have one file to follow.
