namespace TrackerService.Durability;

/// <summary>One segment file the log holds: how long it is, and how many of its unconfirmed records were confirmed since.</summary>
internal sealed class WalSegment(long number, string path, long length, int records)
{
    public long Number { get; } = number;

    public string Path { get; } = path;

    public long Length { get; set; } = length;

    /// <summary>Records in it that were unconfirmed when recovered or appended.</summary>
    public int Records { get; set; } = records;

    public int Confirmed { get; set; }
}
