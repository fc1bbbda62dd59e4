namespace TrackerService.Pipeline;

/// <summary>The in-memory queue between the API and the consumers (section <c>Tracker:Queue</c>).</summary>
public sealed class QueueOptions
{
    public const string Section = "Tracker:Queue";

    /// <summary>Most events held in memory waiting for a consumer. The default value is 100000.</summary>
    public int Capacity { get; set; } = 100_000;

    /// <summary>
    /// How long a request waits for room in a full queue before it is answered 503.
    /// The default value is 250 milliseconds.
    /// </summary>
    public TimeSpan EnqueueTimeout { get; set; } = TimeSpan.FromMilliseconds(250);
}
