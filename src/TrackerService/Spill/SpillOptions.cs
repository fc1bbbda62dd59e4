namespace TrackerService.Spill;

/// <summary>The local spill for events that could not be delivered in time (section <c>Tracker:Spill</c>).</summary>
public sealed class SpillOptions
{
    public const string Section = "Tracker:Spill";

    /// <summary>
    /// Folder of the spill's segment files, relative to the working directory. Each replica needs its own.
    /// The default value is <c>data/spill</c>.
    /// </summary>
    public string Directory { get; set; } = "data/spill";

    /// <summary>
    /// Most bytes the spill may hold while the service runs. When it is full, failed batches stay in memory,
    /// the queue fills and clients get 503: backpressure instead of a full disk. At shutdown everything left
    /// is spilled whatever this says, since nothing accepted may be lost. The default value is 1 GiB.
    /// </summary>
    public long MaxBytes { get; set; } = 1L << 30;

    /// <summary>
    /// Most spilled events replay writes to the store in one batch (one transaction). The default value is 1000,
    /// the consumers' default batch size: the size the stores were measured to write best (docs/performance.md).
    /// </summary>
    public int ReplayBatchSize { get; set; } = 1000;

    /// <summary>How often the spill is looked at for replay while the service runs. The default value is 5 seconds.</summary>
    public TimeSpan ReplayInterval { get; set; } = TimeSpan.FromSeconds(5);
}
