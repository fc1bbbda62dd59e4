namespace TrackerService.Pipeline;

/// <summary>The in-memory queue between the API and the consumers (section <c>Tracker:Queue</c>).</summary>
public sealed class QueueOptions
{
    public const string Section = "Tracker:Queue";

    /// <summary>
    /// Most events held in memory waiting for a consumer. The default value is 50000: about half a second of the
    /// service's sustained rate on 2 cores, small enough that peak memory under overload with small events stays
    /// under the documented ceiling (each queued event costs about 1 KiB of resident memory; docs/performance.md).
    /// Large events are bounded by <see cref="MaxBytes"/> first.
    /// </summary>
    public int Capacity { get; set; } = 50_000;

    /// <summary>
    /// How long a request waits for room in a full queue before it is answered 503.
    /// The default value is 250 milliseconds.
    /// </summary>
    public TimeSpan EnqueueTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Most events that requests waiting for room may hold together (they are parsed, so they take memory
    /// like queued ones); a request that would pass it is answered 503 at once. One request may always wait.
    /// The default value is 10000: about what the consumers free within the enqueue timeout; more waiters
    /// would only time out, holding memory while the service is already overloaded.
    /// </summary>
    public int MaxWaitingEvents { get; set; } = 10_000;

    /// <summary>
    /// Most bytes of memory the queue's events may take (what <c>TrackedEvent.MemoryBytes</c> counts: JSON as UTF-8,
    /// strings as UTF-16), counting the batches consumers have taken and the store has not yet confirmed. The
    /// default value is 16777216 (16 MiB): with events of 32 KB it binds long before <see cref="Capacity"/> (at
    /// about 550 of them), and it keeps the process under its documented ceiling with large events (docs/operations.md,
    /// measured in docs/performance.md: 24 MiB passed it in one run of two); with small events (about 500 bytes)
    /// it binds at about 33,000 of them, a quarter of a second of the sustained rate. A request larger than it is still
    /// admitted into an empty queue. At least twice <c>Tracker:Api:MaxBodyBytes</c>.
    /// </summary>
    public long MaxBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// Most bytes of memory that requests waiting for room may hold together, as <see cref="MaxWaitingEvents"/> does
    /// for their number; a request that would pass it is answered 503 at once. One request may always wait. The
    /// default value is 4194304 (4 MiB): a quarter of <see cref="MaxBytes"/>, as
    /// <see cref="MaxWaitingEvents"/> is a fifth of <see cref="Capacity"/>, and about 8 requests of the largest body.
    /// </summary>
    public long MaxWaitingBytes { get; set; } = 4L * 1024 * 1024;
}
