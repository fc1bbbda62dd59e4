using TrackerService.Events;

namespace TrackerService.Spill;

/// <summary>What was read from one segment.</summary>
/// <param name="Events">The complete events, in order.</param>
/// <param name="TornTail">The last line was cut short (a crash mid-write) and was skipped.</param>
/// <param name="Corrupt">A line other than the last is not a valid event: the segment is kept for a person to look at.</param>
internal sealed record SpillSegment(string Path, IReadOnlyList<TrackedEvent> Events, bool TornTail, bool Corrupt);

/// <summary>The spill's folder: what is in it, read back, recovered after a crash, deleted once stored, or moved aside.</summary>
internal sealed partial class SpillStore
{
    public const string CorruptFolder = "corrupt";

    /// <summary>The suffix of a segment moved aside in its own folder, when <c>corrupt/</c> can't be used.</summary>
    private const string AsideSuffix = ".corrupt";

    /// <summary>
    /// At start: a segment left under its temporary name was cut short by a crash. Its complete lines are still
    /// accepted events, so it joins the others (replay keeps it aside afterwards if any byte of it was not an event).
    /// The spill's own leftovers never stop the service: one whose name is taken gets a new one, and what can't be
    /// moved at all is logged and left for a person.
    /// </summary>
    public void RecoverPartialSegments()
    {
        try
        {
            if (!Directory.Exists(Folder))
            {
                return;
            }

            foreach (var partial in Directory.GetFiles(Folder, "*" + PartialSuffix))
            {
                var target = partial[..^PartialSuffix.Length];
                if (File.Exists(target))
                {
                    target = Path.Combine(Folder, $"{Path.GetFileNameWithoutExtension(target)}-recovered-{Guid.CreateVersion7():N}.jsonl");
                    LogRenamedPartial(logger, partial, target);
                }

                File.Move(partial, target, overwrite: false);
            }

            Interlocked.Exchange(ref _bytes, Directory.GetFiles(Folder, SegmentPattern).Sum(f => new FileInfo(f).Length));
        }
        catch (Exception ex) when (IsDiskError(ex))
        {
            LogRecoveryFailed(logger, ex, Folder);
        }
    }

    /// <summary>The segments waiting for replay, oldest first.</summary>
    public IReadOnlyList<string> ListSegments()
    {
        try
        {
            return Directory.Exists(Folder) ? [.. Directory.GetFiles(Folder, SegmentPattern).Order(StringComparer.Ordinal)] : [];
        }
        catch (Exception ex) when (IsDiskError(ex))
        {
            LogRecoveryFailed(logger, ex, Folder);
            return [];
        }
    }

    /// <summary>Reads a whole segment (for tests and tools; replay streams it instead).</summary>
    public static async Task<SpillSegment> ReadAsync(string path, CancellationToken cancellationToken, int maxLineBytes = 1 << 20)
    {
        var events = new List<TrackedEvent>();
        bool tornTail = false, corrupt = false;
        await foreach (var line in SpillLines.ReadAsync(path, maxLineBytes, cancellationToken).ConfigureAwait(false))
        {
            if (line.Text is { } text && text.AsSpan().Trim((byte)'\r').IsEmpty)
            {
                continue;
            }

            if (line.Text is { } complete && SpillFormat.Read(complete) is { } e)
            {
                events.Add(e);
            }
            else if (line.Unterminated)
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

    /// <summary>
    /// Moves a segment that can't be trusted into <c>corrupt/</c> for a person to look at; it is never deleted. When
    /// that folder can't be used (a file of that name, no permission), it is renamed in place with a
    /// <c>.corrupt</c> suffix, which replay does not list.
    /// </summary>
    /// <returns>Where it is now.</returns>
    public string MoveAside(string path)
    {
        long length = 0;
        try
        {
            length = new FileInfo(path).Length;
        }
        catch (Exception ex) when (IsDiskError(ex))
        {
            // the file can't even be looked at: it is moved all the same if it can be
        }

        string target;
        try
        {
            var folder = Path.Combine(Folder, CorruptFolder);
            Directory.CreateDirectory(folder);
            target = Path.Combine(folder, Path.GetFileName(path));
            File.Move(path, target, overwrite: false);
        }
        catch (Exception ex) when (IsDiskError(ex))
        {
            target = path + AsideSuffix;
            File.Move(path, target, overwrite: false);
        }

        Interlocked.Add(ref _bytes, -length);
        return target;
    }

    private void TryDelete(string path, bool counted)
    {
        try
        {
            var length = counted ? new FileInfo(path).Length : 0;
            File.Delete(path);
            Interlocked.Add(ref _bytes, -length);
        }
        catch (Exception ex) when (IsDiskError(ex))
        {
            LogNotRemoved(logger, path, ex.Message);
        }
    }

    [LoggerMessage(EventId = 403, Level = LogLevel.Warning, Message = "A spill segment cut short by a crash, {Partial:l}, has the name of a finished one; it was renamed {Segment:l} and is replayed like the others")]
    private static partial void LogRenamedPartial(ILogger logger, string partial, string segment);

    [LoggerMessage(EventId = 404, Level = LogLevel.Error, Message = "The spill folder {Folder:l} could not be looked through; what it holds is tried again later")]
    private static partial void LogRecoveryFailed(ILogger logger, Exception exception, string folder);

    [LoggerMessage(EventId = 405, Level = LogLevel.Warning, Message = "The spill could not remove {Segment:l} ({Reason}); its events are also kept elsewhere, and replay stores them once")]
    private static partial void LogNotRemoved(ILogger logger, string segment, string reason);
}
