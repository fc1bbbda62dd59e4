namespace TrackerService.Pipeline;

/// <summary>What a 202 means: the events are in memory (<see cref="Memory"/>) or on disk (<see cref="Disk"/>).</summary>
public enum DurabilityMode
{
    /// <summary>In the queue: a graceful stop loses nothing (drain, then spill); a crash loses what is in memory.</summary>
    Memory,

    /// <summary>In the write-ahead log, synced to disk before the answer: a crash (kill -9, power loss) loses nothing.</summary>
    Disk,
}

/// <summary>
/// Section <c>Tracker:Durability</c>. The mode is the section's own value (<c>Tracker:Durability=Disk</c>, as
/// <c>Tracker__Durability=Disk</c> in the environment) or its <c>Mode</c>; the rest are the log's settings.
/// </summary>
public sealed class DurabilityOptions
{
    public const string Section = "Tracker:Durability";

    /// <summary>The default value is <see cref="DurabilityMode.Memory"/>.</summary>
    public DurabilityMode Mode { get; set; } = DurabilityMode.Memory;

    /// <summary>The write-ahead log's folder (Disk mode). The default value is data/wal.</summary>
    public string Directory { get; set; } = "data/wal";

    /// <summary>Most bytes the log may hold (unconfirmed and not yet reclaimed); past it, 503. The default value is 1073741824 (1 GiB).</summary>
    public long MaxBytes { get; set; } = 1L << 30;

    /// <summary>The size at which the log starts a new segment. The default value is 67108864 (64 MiB).</summary>
    public long SegmentBytes { get; set; } = 64L << 20;

    /// <summary>
    /// Whether the log makes its next segment ahead of time, zero-filled, so that a commit's sync writes data only
    /// (no block allocation, no journal commit for a new size). Costs one segment of disk and of writes more. Off
    /// helps nothing on ext4 or xfs; on copy-on-write filesystems (btrfs, zfs) zeros buy nothing. The default value is true.
    /// </summary>
    public bool PreallocateSegments { get; set; } = true;

    public bool IsDisk => Mode == DurabilityMode.Disk;

    /// <summary>A value of the section itself that names no mode, for the validator to refuse.</summary>
    internal string? UnknownMode { get; set; }
}
