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
    /// Most bytes one segment file may hold (it ends after the event that reaches this). A large spill becomes many
    /// segments: each is written, fsynced and replayed on its own, so a shutdown can stop between two of them at its
    /// deadline, and no file grows past what tools (and .NET's own file reads) handle. The default value is 64 MiB.
    /// </summary>
    public long MaxSegmentBytes { get; set; } = 64L << 20;

    /// <summary>
    /// A line longer than this is longer than any event the service writes, so replay skips it unread as damage.
    /// Not a setting: the composition root derives it from the API's largest event (8 times it, for the older
    /// format's escapes, plus the server's fields); this default fits the API's default limits.
    /// </summary>
    internal int MaxLineBytes { get; set; } = (8 * 32 * 1024) + 4096;

    /// <summary>
    /// Most spilled events replay writes to the store in one batch (one transaction). The default value is 1000,
    /// the consumers' default batch size: the size the stores were measured to write best (docs/performance.md).
    /// </summary>
    public int ReplayBatchSize { get; set; } = 1000;

    /// <summary>How often the spill is looked at for replay while the service runs. The default value is 5 seconds.</summary>
    public TimeSpan ReplayInterval { get; set; } = TimeSpan.FromSeconds(5);
}
