namespace TrackerService.Pipeline;

/// <summary>The in-memory queue between the API and the consumers (section <c>Tracker:Queue</c>).</summary>
public sealed class QueueOptions
{
    public const string Section = "Tracker:Queue";

    /// <summary>
    /// Most events held in memory waiting for a consumer. The default value is 50000: about half a second of the
    /// service's sustained rate on 2 cores, small enough that peak memory under overload stays under 300 MB
    /// (each queued event costs about 1 KiB of resident memory; docs/performance.md).
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
}
