using System.Buffers.Binary;
using TrackerService.Telemetry;

namespace TrackerService.Durability;

/// <summary>What the log found at open.</summary>
internal sealed record WalRecoveryResult(WalPosition Checkpoint, List<WalRecord> Records, List<WalSegment> Segments, long NextSegment);

/// <summary>
/// Reads the log's folder at open: the checkpoint, then every segment from it. A frame cut short at the end of the
/// last segment (a crash mid-append: never acknowledged) is kept in <c>corrupt/</c> and cut off; a segment with a
/// frame whose checksum fails, or cut short anywhere else, is copied whole to <c>corrupt/</c> and truncated to the
/// records before the damage, which stay in the log. Segments wholly confirmed are deleted. Nothing here throws for
/// what the files hold.
/// </summary>
internal static class WalRecovery
{
    public static WalRecoveryResult Recover(string folder, ILogger logger, TrackerTelemetry? telemetry)
    {
        var checkpoint = ReadCheckpoint(folder, logger);
        File.Delete(Path.Combine(folder, WalSpare.FileName)); // a spare left behind: made again, whole, once the log is open
        var files = Directory.EnumerateFiles(folder)
            .Select(f => (Path: f, Number: WalFormat.SegmentNumber(Path.GetFileName(f))))
            .Where(f => f.Number is not null)
            .OrderBy(f => f.Number)
            .ToList();
        var next = Math.Max(checkpoint.Segment, files.Count == 0 ? 0 : files[^1].Number!.Value) + 1;
        var records = new List<WalRecord>();
        var segments = new List<WalSegment>();
        for (var i = 0; i < files.Count; i++)
        {
            var (path, number) = (files[i].Path, files[i].Number!.Value);
            if (number < checkpoint.Segment)
            {
                WalRepair.Remove(path, logger);
                continue;
            }

            var before = records.Count;
            var length = Scan(path, number, checkpoint, last: i == files.Count - 1, records, logger, telemetry, out var leftAsIs);
            if (records.Count > before)
            {
                segments.Add(new WalSegment(number, path, length, records.Count - before));
            }
            else if (!leftAsIs)
            {
                WalRepair.Remove(path, logger);
            }
        }

        telemetry?.WalRecovered(records.Count);
        try
        {
            DiskStorage.Instance.SyncDirectory(folder);
        }
        catch (IOException ex)
        {
            WalLog.NotRepaired(logger, folder, ex.Message);
        }

        return new WalRecoveryResult(checkpoint, records, segments, next);
    }

    /// <returns>The segment's length once repaired; <paramref name="leftAsIs"/> when it could not be read or repaired (to keep, not delete).</returns>
    private static long Scan(
        string path, long number, WalPosition checkpoint, bool last, List<WalRecord> records, ILogger logger, TrackerTelemetry? telemetry, out bool leftAsIs)
    {
        leftAsIs = true;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            WalLog.NotRepaired(logger, path, ex.Message);
            return 0;
        }

        var (end, found, kept) = (0, FrameRead.Valid, 0);
        if (bytes.Length < WalFormat.HeaderBytes)
        {
            found = bytes.Length == 0 ? FrameRead.Valid : FrameRead.CutShort;
        }
        else if (!WalFormat.IsHeader(bytes))
        {
            found = FrameRead.Corrupt;
        }
        else
        {
            end = WalFormat.HeaderBytes;
            while (end < bytes.Length && (found = WalFormat.ReadFrame(bytes, end, out var payload)) == FrameRead.Valid)
            {
                var position = new WalPosition(number, end);
                if (position >= checkpoint)
                {
                    records.Add(new WalRecord(position, payload.ToArray()));
                    kept++;
                }

                end += WalFormat.FrameBytes(payload.Length);
            }
        }

        var after = bytes.AsSpan(end);
        if (after.IndexOfAnyExcept((byte)0) < 0)
        {
            leftAsIs = false; // the end of the file, or the zeros of a segment made ahead (WalSpare) where its records end
            return end;
        }

        var torn = last && IsTorn(bytes, end, found);
        var name = Path.GetFileName(path);
        var copy = WalRepair.SetAside(path, torn ? after[..(after.LastIndexOfAnyExcept((byte)0) + 1)] : bytes, torn ? name + ".torn" : name, logger);
        if (copy is null)
        {
            return bytes.Length;
        }

        telemetry?.WalSetAside(torn ? TrackerTelemetry.WalTorn : TrackerTelemetry.WalCorrupt);
        if (torn)
        {
            WalLog.TornTail(logger, name, end, bytes.Length - end, copy);
        }
        else
        {
            WalLog.Corrupt(logger, name, end, found == FrameRead.Corrupt ? "checksum" : "frame cut short", kept, copy);
        }

        leftAsIs = !WalRepair.Truncate(path, end, logger);
        return leftAsIs ? bytes.Length : end;
    }

    /// <summary>
    /// Whether the damage at <paramref name="end"/> of the last segment is an append a crash cut short (never
    /// acknowledged): a frame running past the file's end, or, in a segment made ahead with zeros, a frame whose
    /// bytes are not all there and after which there is nothing but zeros.
    /// </summary>
    private static bool IsTorn(ReadOnlySpan<byte> bytes, int end, FrameRead found)
    {
        if (found == FrameRead.CutShort)
        {
            return true;
        }

        var rest = bytes[end..];
        var length = BinaryPrimitives.ReadUInt32LittleEndian(rest);
        return length <= WalFormat.MaxPayloadBytes
            && rest[(int)Math.Min(rest.Length, WalFormat.FrameBytes((int)length))..].IndexOfAnyExcept((byte)0) < 0;
    }

    private static WalPosition ReadCheckpoint(string folder, ILogger logger)
    {
        var path = Path.Combine(folder, WalFormat.CheckpointName);
        File.Delete(path + ".tmp");
        if (!File.Exists(path))
        {
            return default;
        }

        WalPosition? position;
        try
        {
            position = WalFormat.ReadCheckpoint(File.ReadAllBytes(path));
        }
        catch (IOException)
        {
            position = null;
        }

        if (position is null)
        {
            WalLog.CheckpointUnreadable(logger, path);
        }

        return position ?? default;
    }
}
