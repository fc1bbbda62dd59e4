namespace TrackerService.Pipeline;

/// <summary>How queued events are delivered to the sink (section <c>Tracker:Delivery</c>).</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Tracker:Delivery";

    /// <summary>Number of consumers reading the queue and writing batches. The default value is 2.</summary>
    public int Consumers { get; set; } = 2;

    /// <summary>Most events written to the sink in one batch. The default value is 1000.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>
    /// Longest a partly filled batch waits for more events before it is written anyway.
    /// The default value is 200 milliseconds.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);
}
