using System.Buffers;
using Microsoft.Extensions.Options;
using TrackerService.Events;
using TrackerService.Telemetry;

namespace TrackerService.Spill;

/// <summary>What was read from one segment.</summary>
/// <param name="Events">The complete events, in order.</param>
/// <param name="TornTail">The last line was cut short (a crash mid-write) and was skipped.</param>
/// <param name="Corrupt">A line other than the last is not a valid event: the segment is kept for a person to look at.</param>
internal sealed record SpillSegment(string Path, IReadOnlyList<TrackedEvent> Events, bool TornTail, bool Corrupt);

/// <summary>
/// The spill's files: append-only segments of one event per line, each written whole and flushed to
/// disk (fsync) before it is reported written; read back and deleted only once every event is stored.
/// </summary>
internal sealed partial class SpillStore(IOptions<SpillOptions> options, TimeProvider time, ILogger<SpillStore> logger)
{
    public const string SegmentPattern = "*.jsonl";

    private const string PartialSuffix = ".partial";

    private long _bytes;
    private int _writing;

    public string Folder { get; } = Path.GetFullPath(options.Value.Directory);

    /// <summary>
    /// Writes <paramref name="events"/> to a new segment if the spill has room (<see cref="SpillOptions.MaxBytes"/>).
    /// </summary>
    /// <returns>False when the spill is full and nothing was written.</returns>
    public async Task<bool> TryWriteAsync(IReadOnlyCollection<TrackedEvent> events, CancellationToken cancellationToken)
    {
        if (Bytes >= options.Value.MaxBytes)
        {
            return false;
        }

        await WriteAsync(events, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Writes <paramref name="events"/> to a new segment and flushes it to disk, whatever the size cap (the
    /// shutdown path: nothing accepted may be lost). The segment is written under a temporary name and
    /// renamed when complete, so replay never reads one that is still being written.
    /// </summary>
    public async Task WriteAsync(IReadOnlyCollection<TrackedEvent> events, CancellationToken cancellationToken = default)
    {
        if (events.Count == 0)
        {
            return;
        }

        Interlocked.Increment(ref _writing);
        try
        {
            await WriteSegmentAsync(events, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _writing);
        }
    }

    /// <summary>Whether a segment is being written: the only copy of its events is in this process's memory.</summary>
    public bool IsWriting => Volatile.Read(ref _writing) > 0;

    private async Task WriteSegmentAsync(IReadOnlyCollection<TrackedEvent> events, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        using var activity = TrackerTelemetry.ActivitySource.StartActivity(TrackerTelemetry.SpanSpillWrite);
        activity?.SetTag(TrackerTelemetry.TagSpillEvents, events.Count);
        Directory.CreateDirectory(Folder);

        // Names sort in the order segments were written, so replay keeps that order.
        var path = Path.Combine(Folder, $"{time.GetUtcNow():yyyyMMdd'T'HHmmssfff}-{Guid.CreateVersion7():N}.jsonl");
        var partial = path + PartialSuffix;
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        long written = 0;
        await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
        {
            foreach (var e in events)
            {
                SpillFormat.Write(buffer, e);
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
        Interlocked.Add(ref _bytes, written);
        activity?.SetTag(TrackerTelemetry.TagSpillSegment, Path.GetFileName(path));
        activity?.SetTag(TrackerTelemetry.TagSpillBytes, written);
        LogWritten(logger, events.Count, path, time.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>
    /// At start: a segment left under its temporary name was cut short by a crash. Its complete lines are
    /// still accepted events, so it joins the others (its torn last line is skipped on replay).
    /// </summary>
    public void RecoverPartialSegments()
    {
        if (!Directory.Exists(Folder))
        {
            return;
        }

        foreach (var partial in Directory.GetFiles(Folder, "*" + PartialSuffix))
        {
            File.Move(partial, partial[..^PartialSuffix.Length], overwrite: false);
        }

        Interlocked.Exchange(ref _bytes, Directory.GetFiles(Folder, SegmentPattern).Sum(f => new FileInfo(f).Length));
    }

    /// <summary>Bytes of segments waiting for replay.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>The segments waiting for replay, oldest first.</summary>
    public IReadOnlyList<string> ListSegments() =>
        Directory.Exists(Folder) ? [.. Directory.GetFiles(Folder, SegmentPattern).Order(StringComparer.Ordinal)] : [];

    public static async Task<SpillSegment> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        var events = new List<TrackedEvent>();
        bool tornTail = false, corrupt = false;
        var rest = bytes.AsMemory();
        while (!rest.IsEmpty)
        {
            var end = rest.Span.IndexOf((byte)'\n');
            var last = end < 0;
            var line = last ? rest : rest[..end];
            rest = last ? Memory<byte>.Empty : rest[(end + 1)..];
            if (line.Span.Trim((byte)'\r').IsEmpty)
            {
                continue;
            }

            if (SpillFormat.Read(line.Span) is { } e)
            {
                events.Add(e);
            }
            else if (last)
            {
                tornTail = true; // the write that was cut short; every line before it is whole
            }
            else
            {
                corrupt = true; // damage inside the file: keep reading what can be read, but keep the file
            }
        }

        return new SpillSegment(path, events, tornTail, corrupt);
    }

    /// <summary>Removes a segment whose every event is stored.</summary>
    public void Delete(string path)
    {
        var length = new FileInfo(path).Length;
        File.Delete(path);
        Interlocked.Add(ref _bytes, -length);
    }

    /// <summary>Moves a segment that can't be trusted into <c>corrupt/</c> for a person to look at; it is never deleted.</summary>
    public string MoveAside(string path)
    {
        var folder = Path.Combine(Folder, "corrupt");
        Directory.CreateDirectory(folder);
        var target = Path.Combine(folder, Path.GetFileName(path));
        var length = new FileInfo(path).Length;
        File.Move(path, target, overwrite: false);
        Interlocked.Add(ref _bytes, -length);
        return target;
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Spilled {Events} events to {Segment:l} in {ElapsedMs} ms")]
    private static partial void LogWritten(ILogger logger, int events, string segment, double elapsedMs);
}
