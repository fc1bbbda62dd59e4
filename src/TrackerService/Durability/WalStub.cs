// TEMPORARY stand-in for the write-ahead log being written on branch `wal`; replaced at its merge.
namespace TrackerService.Durability;

internal readonly record struct WalPosition(long Segment, long Offset);

internal sealed record WalRecord(WalPosition Position, byte[] Payload);

internal sealed class WalOptions
{
    public string Directory { get; set; } = "data/wal";

    public long SegmentBytes { get; set; } = 64L << 20;

    public long MaxBytes { get; set; } = 1L << 30;
}

internal sealed class WalFullException : IOException;

internal sealed class WriteAheadLog : IAsyncDisposable
{
    public IReadOnlyList<WalRecord> Recovered { get; } = [];

    public long Bytes { get; }

    public int Segments { get; }

    public static Task<WriteAheadLog> OpenAsync(WalOptions options, ILogger logger, Telemetry.TrackerTelemetry? telemetry, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The write-ahead log is not merged yet.");

    public ValueTask<WalPosition> AppendAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) => throw new NotSupportedException();

    public void Confirm(WalPosition position) => throw new NotSupportedException();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
