using System.Buffers;
using Microsoft.Extensions.Options;
using TrackerService.Events;
using TrackerService.Telemetry;

namespace TrackerService.Spill;

/// <summary>What a shutdown spill kept: how many of the events (from the first, in order), and the last write error if any were not.</summary>
internal sealed record SpillKept(int Events, Exception? LastError);

/// <summary>
/// The spill's segments as they are written: append-only files of one event per line, each written whole and
/// flushed to disk (fsync) under a temporary name, then renamed, before it is reported written. A disk that refuses
/// a write (full, read-only, failing) makes the spill count as full: nothing half-written is left behind, and the
/// caller keeps the events. The folder's other work (listing, reading back, moving aside) is in <c>SpillFolder.cs</c>.
/// </summary>
internal sealed partial class SpillStore(IOptions<SpillOptions> options, TimeProvider time, ILogger<SpillStore> logger)
{
    public const string SegmentPattern = "*.jsonl";

    private const string PartialSuffix = ".partial";

    /// <summary>How long a shutdown spill that the disk refused waits before it tries again (space may come back).</summary>
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(100);

    private long _sequence;
    private long _bytes;
    private int _writing;
    private volatile string? _refusal;

    public string Folder { get; } = Path.GetFullPath(options.Value.Directory);

    /// <summary>Whether a segment is being written: the only copy of its events is in this process's memory.</summary>
    public bool IsWriting => Volatile.Read(ref _writing) > 0;

    /// <summary>Why the last write the spill was asked for was refused (full, or the disk's error); null once one succeeds.</summary>
    public string? Refusal => _refusal;

    /// <summary>
    /// Writes <paramref name="events"/> if the spill has room (<see cref="SpillOptions.MaxBytes"/>) and the disk takes
    /// them. A disk error (no space left, read-only, I/O error, no permission) counts as full: what this call wrote
    /// is removed, so the caller, which keeps the events, holds their only copy.
    /// </summary>
    /// <returns>False when the spill is full or could not be written, and nothing was kept.</returns>
    public async Task<bool> TryWriteAsync(IReadOnlyList<TrackedEvent> events, CancellationToken cancellationToken)
    {
        if (Bytes >= options.Value.MaxBytes)
        {
            _refusal = $"the spill holds {Bytes} bytes, its limit (Tracker:Spill:MaxBytes) is {options.Value.MaxBytes}";
            return false;
        }

        var written = new List<string>();
        try
        {
            for (var offset = 0; offset < events.Count;)
            {
                var (count, path) = await WriteSegmentAsync(events, offset, events.Count - offset, cancellationToken).ConfigureAwait(false);
                written.Add(path);
                offset += count;
            }
        }
        catch (Exception ex) when (IsDiskError(ex))
        {
            foreach (var path in written)
            {
                TryDelete(path, counted: true);
            }

            Refused(ex, events.Count);
            return false;
        }

        _refusal = null;
        return true;
    }

    /// <summary>
    /// The shutdown's spill: writes <paramref name="events"/> whatever the size cap (nothing accepted may be lost),
    /// segment by segment. A segment the disk refuses is tried again in smaller pieces, down to one event, then
    /// again after a pause until <paramref name="deadline"/>, since space may come back. Segments the disk takes go
    /// on being written past the deadline: their events exist nowhere else, and the watchdog waits for a spill in
    /// progress (<see cref="IsWriting"/> holds for the whole call, between segments too); only the retries stop.
    /// </summary>
    /// <returns>How many events were kept (the first ones, in order) and, if not all, the last error.</returns>
    public async Task<SpillKept> KeepAsync(IReadOnlyList<TrackedEvent> events, CancellationToken deadline)
    {
        int kept = 0, piece = Math.Max(1, events.Count);
        Exception? lastError = null;
        Interlocked.Increment(ref _writing);
        try
        {
            while (kept < events.Count && (lastError is null || !deadline.IsCancellationRequested))
            {
                try
                {
                    kept += (await WriteSegmentAsync(events, kept, Math.Min(piece, events.Count - kept), CancellationToken.None).ConfigureAwait(false)).Events;
                    piece = piece >= events.Count / 2 ? events.Count : piece * 2;
                    lastError = null;
                }
                catch (Exception ex) when (IsDiskError(ex))
                {
                    lastError = ex;
                    Refused(ex, events.Count - kept);
                    if (piece > 1)
                    {
                        piece /= 2;
                        continue;
                    }

                    try
                    {
                        await Task.Delay(RetryPause, time, deadline).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _writing);
        }

        if (kept < events.Count)
        {
            lastError ??= new TimeoutException("The shutdown deadline came before the spill was written.");
            LogNotKept(logger, lastError, events.Count - kept, events.Count, lastError.Message);
        }

        return new SpillKept(kept, kept < events.Count ? lastError : null);
    }

    /// <summary>Bytes of segments waiting for replay.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Errors of the disk, not of the program: they may clear (space freed, the folder made writable again).</summary>
    public static bool IsDiskError(Exception exception) => exception is IOException or UnauthorizedAccessException;

    /// <summary>Writes events from <paramref name="offset"/> to one new segment, up to <paramref name="count"/> of them or until it reaches <see cref="SpillOptions.MaxSegmentBytes"/>.</summary>
    /// <returns>How many it wrote, and the segment.</returns>
    private async Task<(int Events, string Path)> WriteSegmentAsync(IReadOnlyList<TrackedEvent> events, int offset, int count, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        using var activity = TrackerTelemetry.ActivitySource.StartActivity(TrackerTelemetry.SpanSpillWrite);
        Interlocked.Increment(ref _writing);
        Directory.CreateDirectory(Folder);

        // Names sort in the order segments were written, so replay keeps that order: by time, then by a sequence, since
        // several segments of one spill can be written in the same millisecond (a version-7 Guid alone is random within
        // one), then by a Guid, unique across replicas sharing nothing.
        var sequence = Interlocked.Increment(ref _sequence);
        var path = Path.Combine(Folder, $"{time.GetUtcNow():yyyyMMdd'T'HHmmssfff}-{sequence:D12}-{Guid.CreateVersion7():N}.jsonl");
        var partial = path + PartialSuffix;
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        long written = 0;
        var n = 0;
        try
        {
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                for (; n < count && written + buffer.WrittenCount < options.Value.MaxSegmentBytes; n++)
                {
                    SpillFormat.Write(buffer, events[offset + n]);
                    if (buffer.WrittenCount >= 60 * 1024)
                    {
                        await file.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
                        written += buffer.WrittenCount;
                        buffer.ResetWrittenCount();
                    }
                }

                await file.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
                written += buffer.WrittenCount;
                file.Flush(flushToDisk: true);
            }

            File.Move(partial, path);
        }
        catch
        {
            TryDelete(partial, counted: false); // best effort: a full disk must not keep half a segment
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _writing);
        }

        Interlocked.Add(ref _bytes, written);
        activity?.SetTag(TrackerTelemetry.TagSpillEvents, n);
        activity?.SetTag(TrackerTelemetry.TagSpillSegment, Path.GetFileName(path));
        activity?.SetTag(TrackerTelemetry.TagSpillBytes, written);
        LogWritten(logger, n, path, time.GetElapsedTime(started).TotalMilliseconds);
        return (n, path);
    }

    private void Refused(Exception ex, int events)
    {
        _refusal = ex.Message;
        LogRefused(logger, events, Folder, ex.Message);
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Spilled {Events} events to {Segment:l} in {ElapsedMs} ms")]
    private static partial void LogWritten(ILogger logger, int events, string segment, double elapsedMs);

    [LoggerMessage(EventId = 401, Level = LogLevel.Error, Message = "{Lost} of the {Events} events left at shutdown could not be kept: the spill could not be written by the deadline ({Reason}); they are lost")]
    private static partial void LogNotKept(ILogger logger, Exception exception, int lost, int events, string reason);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "The spill in {Folder:l} could not be written ({Reason}); counted as full, the {Events} events stay in memory and the write is tried again")]
    private static partial void LogRefused(ILogger logger, int events, string folder, string reason);
}

// Over 200 lines: the three ways the spill is written (while running, whatever the cap, at shutdown by a deadline)
// share one segment writer and its clean-up, and read best side by side.
