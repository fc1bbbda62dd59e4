namespace TrackerService.Durability;

/// <summary>A record's place in the log: the segment's number and the byte offset of its frame. Ordered.</summary>
internal readonly record struct WalPosition(long Segment, long Offset) : IComparable<WalPosition>
{
    public int CompareTo(WalPosition other) =>
        Segment != other.Segment ? Segment.CompareTo(other.Segment) : Offset.CompareTo(other.Offset);

    public static bool operator <(WalPosition left, WalPosition right) => left.CompareTo(right) < 0;

    public static bool operator >(WalPosition left, WalPosition right) => left.CompareTo(right) > 0;

    public static bool operator <=(WalPosition left, WalPosition right) => left.CompareTo(right) <= 0;

    public static bool operator >=(WalPosition left, WalPosition right) => left.CompareTo(right) >= 0;

    public override string ToString() => $"{Segment}:{Offset}";
}

/// <summary>One record of the log: where it is, and the bytes appended.</summary>
internal sealed record WalRecord(WalPosition Position, byte[] Payload);

/// <summary>Where the write-ahead log lives and how big it may grow.</summary>
internal sealed class WalOptions
{
    /// <summary>The log's folder; created if missing. Corrupt segments are set aside in its <c>corrupt/</c> subfolder.</summary>
    public string Directory { get; set; } = "data/wal";

    /// <summary>A segment is closed and a new one started once it holds this many bytes (a commit may run past it).</summary>
    public long SegmentBytes { get; set; } = 64L << 20;

    /// <summary>Most bytes the log's segments may take; an append past it is refused with <see cref="WalFullException"/>.</summary>
    public long MaxBytes { get; set; } = 1L << 30;

    /// <summary>Whether the next segment is made ahead of time, zero-filled (<see cref="WalSpare"/>).</summary>
    public bool Preallocate { get; set; } = true;
}

/// <summary>The log holds <see cref="WalOptions.MaxBytes"/> of unconfirmed records: nothing was written; try again later.</summary>
internal sealed class WalFullException : IOException
{
    public WalFullException()
        : base("The write-ahead log is full.")
    {
    }

    public WalFullException(string message)
        : base(message)
    {
    }

    public WalFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
