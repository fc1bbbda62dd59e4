namespace TrackerService.Streaming;

/// <summary>
/// The NATS JetStream stream between intake and storage (section <c>Tracker:JetStream</c>): where the JetStream
/// sink publishes and where the loader role consumes. One stream, one subject per event type.
/// </summary>
public sealed class JetStreamOptions
{
    public const string Section = "Tracker:JetStream";

    /// <summary>
    /// The NATS server, or a comma-separated list of a cluster's seeds (<c>nats://n1:4222,nats://n2:4222</c>); the
    /// client learns the rest of the cluster from them. The default value is <c>nats://127.0.0.1:4222</c>.
    /// </summary>
    public string Url { get; set; } = "nats://127.0.0.1:4222";

    /// <summary>The stream's name, created at start when missing. The default value is <c>TRACKER_EVENTS</c>.</summary>
    public string Stream { get; set; } = "TRACKER_EVENTS";

    /// <summary>
    /// The subjects' first tokens: an event is published to <c>{SubjectPrefix}.{type}</c> (<c>tracker.events.track</c>),
    /// a rejected one to <c>{SubjectPrefix}.rejected</c>; the stream takes <c>{SubjectPrefix}.&gt;</c>. The default
    /// value is <c>tracker.events</c>.
    /// </summary>
    public string SubjectPrefix { get; set; } = "tracker.events";

    /// <summary>
    /// Copies of each message the stream keeps, on as many servers (1 to 5; 3 in a three-node cluster): with 3, a
    /// publish is acked once two of them have it, and the stream survives the loss of one. The default value is 1.
    /// </summary>
    public int Replicas { get; set; } = 1;

    /// <summary>
    /// How long the stream remembers a <c>Nats-Msg-Id</c> (the event's messageId) to drop a second copy of it: a retried
    /// batch or a replayed spill within it is acked <c>Duplicate</c>. Past it, a copy is stored again, and the store's
    /// unique messageId keeps it once. The server keeps about 200 bytes per id it remembers, and its cost per publish
    /// grows with them, so the window is kept near the sink's retry horizon (1 + <c>Tracker:Sink:MaxRetryAttempts</c>
    /// attempts of <see cref="PublishTimeout"/> and their backoff: about 27 s with the defaults). The default value is
    /// 30 seconds.
    /// </summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest a message stays in the stream, loaded or not (<c>00:00:00</c>: no limit). The default value is 7 days:
    /// a week for a loader outage before events are lost.
    /// </summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Most bytes the stream holds before it drops its oldest messages (-1: no limit). The default value is -1.</summary>
    public long MaxBytes { get; set; } = -1;

    /// <summary>
    /// When the stream deletes a message: <see cref="StreamRetention.Limits"/> only by <see cref="MaxAge"/> and
    /// <see cref="MaxBytes"/> (a message stays after it is loaded, for a second consumer or a re-load);
    /// <see cref="StreamRetention.WorkQueue"/> once it is acked; <see cref="StreamRetention.Interest"/> once every
    /// consumer has acked it. Can't be changed on an existing stream. The default value is <see cref="StreamRetention.Limits"/>.
    /// </summary>
    public StreamRetention Retention { get; set; } = StreamRetention.Limits;

    /// <summary>
    /// The durable pull consumer all loaders share (each message goes to one of them). The default value is
    /// <c>tracker-loader</c>.
    /// </summary>
    public string Consumer { get; set; } = "tracker-loader";

    /// <summary>
    /// How long a loader may hold a message unacked before the stream delivers it again (to any loader): longer than
    /// a batch's write to the store. The default value is 30 seconds.
    /// </summary>
    public TimeSpan AckWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most messages delivered to the loaders and not yet acked, over all of them. The default value is 20000.</summary>
    public int MaxAckPending { get; set; } = 20_000;

    /// <summary>
    /// How long a batch's publishes wait for their acks before the batch counts as failed (and is retried, then
    /// spilled, like a write to a frozen database). The default value is 5 seconds.
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the start keeps asking JetStream for the stream's (and a loader's consumer's) set-up while it does not
    /// answer: each ask waits <see cref="PublishTimeout"/> (the connection's request timeout), so a window kept short
    /// to fail over fast does not fail a start on a slow disk or a busy server. Then the start fails with a line that
    /// says so. The default value is 10 seconds.
    /// </summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Most publishes awaiting their ack at once, over the whole process. 1000 lets one batch of the default size
    /// (<c>Tracker:Delivery:BatchSize</c>) go out in one window, so a batch costs about one round trip and not one per
    /// event, while what waits is bounded: at most this many messages (at most 32 KiB each) held until acked. The
    /// default value is 1000.
    /// </summary>
    public int MaxInFlight { get; set; } = 1000;

    /// <summary>Most messages a loader asks the stream for at once (one batch to the store). The default value is 1000.</summary>
    public int FetchBatch { get; set; } = 1000;

    /// <summary>
    /// How long a loader's fetch waits for messages before it writes what it has (a partial batch). The default value
    /// is 1 second.
    /// </summary>
    public TimeSpan FetchExpires { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>When the stream deletes a message (JetStream's retention policies).</summary>
public enum StreamRetention
{
    /// <summary>By age and size only.</summary>
    Limits,

    /// <summary>Once a consumer acks it.</summary>
    WorkQueue,

    /// <summary>Once every consumer acks it.</summary>
    Interest,
}
