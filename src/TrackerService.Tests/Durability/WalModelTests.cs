using CsCheck;
using TrackerService.Durability;

namespace TrackerService.Tests.Durability;

/// <summary>
/// The log against a model of what it must keep: random appends (some concurrent, so commits group), confirmations
/// in any order, then a crash (the folder copied while the log is open), a torn tail (a frame cut short past the
/// last sync) and a flipped byte in any record, then a restart on the copy. What comes back is exactly the model's
/// acknowledged records from the first unconfirmed one on, less the segments wholly confirmed (deleted) and less
/// what follows the damaged record in its segment (set aside in <c>corrupt/</c>, not lost); and the log appends after it.
/// Half the runs make segments ahead, zero-filled (<see cref="WalSpare"/>), so the damage lands before zeros too.
/// </summary>
public sealed class WalModelTests
{
    private static readonly Gen<Op> Append = Gen.Byte.Array[1, 80].Array[1, 4].Select(p => new Op(p, 0, 0));

    private static readonly Gen<Op> ConfirmSome = Gen.Select(Gen.Int[0, 1000], Gen.Frequency((4, Gen.Int[1, 5]), (1, Gen.Const(1000)))).Select((pick, count) => new Op(null, pick, count));

    private static readonly Gen<Damage> Damages = Gen.Select(Gen.Bool, Gen.Bool, Gen.Int[0, 10_000], Gen.Int[0, 10_000], Gen.Byte.Array[1, 60])
        .Select((torn, corrupt, record, at, payload) => new Damage(torn, corrupt, record, at, payload));

    [Fact]
    public Task RecoveryKeepsExactlyTheAcknowledgedUnconfirmedRecords() =>
        Gen.Select(Gen.Frequency((3, Append), (2, ConfirmSome)).Array[0, 25], Damages).Array[1, 3].Select(Gen.Int[40, 400], Gen.Bool, (rounds, s, p) => (rounds, s, p))
            .SampleAsync((rounds, segmentBytes, preallocate) => RunAsync(rounds, new Sizes(segmentBytes, preallocate)), iter: 80, threads: 2);

    /// <summary>Each round: open the last round's crash copy, run the operations, crash (copy), damage the copy.</summary>
    private static async Task RunAsync((Op[] Ops, Damage Damage)[] rounds, Sizes sizes)
    {
        var folders = new List<WalFolder> { new() };
        try
        {
            List<WalRecord>? expected = [];
            foreach (var (ops, damage) in rounds)
            {
                var copy = new WalFolder();
                folders.Add(copy);
                expected = await RoundAsync(folders[^2], copy, expected, ops, damage, sizes);
            }

            var extra = new byte[] { 1, 2, 3 };
            await using (var reopened = await WalFolder.OpenAsync(folders[^1].Options(sizes.Bytes, preallocate: sizes.Preallocate)))
            {
                Assert.Equal(expected.Select(r => r.Position), reopened.Recovered.Select(r => r.Position));
                Assert.Equal(expected.Select(r => r.Payload), reopened.Recovered.Select(r => r.Payload));
                await reopened.AppendAsync(extra, CancellationToken.None);
            }

            await using var again = await WalFolder.OpenAsync(folders[^1].Options(sizes.Bytes, preallocate: sizes.Preallocate));
            Assert.Equal(expected.Select(r => r.Payload).Append(extra), again.Recovered.Select(r => r.Payload));
        }
        finally
        {
            folders.ForEach(f => f.Dispose());
        }
    }

    /// <returns>What a restart on <paramref name="copy"/> must recover.</returns>
    private static async Task<List<WalRecord>> RoundAsync(WalFolder folder, WalFolder copy, List<WalRecord> held, Op[] ops, Damage damage, Sizes sizes)
    {
        var acked = new List<WalRecord>();
        var confirmed = new HashSet<WalPosition>();
        long? current = null;
        await using (var log = await WalFolder.OpenAsync(folder.Options(sizes.Bytes, preallocate: sizes.Preallocate)))
        {
            Assert.Equal(held.Select(r => r.Position), log.Recovered.Select(r => r.Position));
            Assert.Equal(held.Select(r => r.Payload), log.Recovered.Select(r => r.Payload));
            acked.AddRange(log.Recovered);
            foreach (var op in ops)
            {
                if (op.Payloads is { } payloads)
                {
                    var positions = await Task.WhenAll(payloads.Select(p => log.AppendAsync(p, CancellationToken.None).AsTask()));
                    acked.AddRange(positions.Zip(payloads, (p, b) => new WalRecord(p, b)));
                    current = positions.Max().Segment;
                    continue;
                }

                var open = acked.Where(r => !confirmed.Contains(r.Position)).ToList();
                for (var k = 0; k < op.Count && open.Count > 0; k++)
                {
                    var record = open[(op.Pick + (k * 7)) % open.Count];
                    open.Remove(record);
                    confirmed.Add(record.Position);
                    log.Confirm(record.Position);
                }
            }

            // A confirmation wakes the checkpoint's writer, which may or may not have run by the crash: let it run.
            // Without one, the checkpoint on disk is the last round's, as after a real crash.
            if (confirmed.Count > 0)
            {
                await log.HousekeepAsync();
            }

            foreach (var file in Directory.GetFiles(folder.Path).Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal)))
            {
                File.Copy(file, Path.Combine(copy.Path, Path.GetFileName(file)));
            }
        }

        acked.Sort((a, b) => a.Position.CompareTo(b.Position));
        var expected = Expected(acked, confirmed, current);
        var segments = copy.Segments();
        var end = segments.Length == 0 ? 0 : WalFolder.RecordsEnd(Path.Combine(copy.Path, segments[^1])); // before a byte is flipped
        var damaged = Corrupt(copy, damage, expected) | Tear(copy, damage, end);
        await using (await WalFolder.OpenAsync(copy.Options(sizes.Bytes, preallocate: sizes.Preallocate)))
        {
            Assert.Equal(damaged, copy.SetAside().Length > 0);
        }

        return expected;
    }

    /// <summary>From the first unconfirmed record on, but none of a segment wholly confirmed other than the one appended to (deleted).</summary>
    private static List<WalRecord> Expected(List<WalRecord> acked, HashSet<WalPosition> confirmed, long? current)
    {
        var first = acked.FirstOrDefault(r => !confirmed.Contains(r.Position));
        if (first is null)
        {
            return [];
        }

        var deleted = acked.GroupBy(r => r.Position.Segment)
            .Where(g => g.Key != current && g.All(r => confirmed.Contains(r.Position)))
            .Select(g => g.Key)
            .ToHashSet();
        return [.. acked.Where(r => r.Position >= first.Position && !deleted.Contains(r.Position.Segment))];
    }

    /// <summary>Flips a byte of one frame of the copy; drops from <paramref name="expected"/> what follows in its segment.</summary>
    private static bool Corrupt(WalFolder copy, Damage damage, List<WalRecord> expected)
    {
        var frames = copy.Segments().SelectMany(name => Frames(Path.Combine(copy.Path, name))).ToList();
        if (!damage.Corrupt || frames.Count == 0)
        {
            return false;
        }

        var (path, position, length) = frames[damage.Record % frames.Count];
        var bytes = File.ReadAllBytes(path);
        bytes[position.Offset + (damage.At % length)] ^= (byte)(1 + (damage.At % 255));
        File.WriteAllBytes(path, bytes);
        expected.RemoveAll(r => r.Position.Segment == position.Segment && r.Position >= position);
        return true;
    }

    /// <summary>Appends a frame cut short to the last segment of the copy: a crash in the middle of an append never acknowledged.</summary>
    private static bool Tear(WalFolder copy, Damage damage, long end)
    {
        var segments = copy.Segments();
        if (!damage.Torn || segments.Length == 0)
        {
            return false;
        }

        var frame = new byte[WalFormat.FrameBytes(damage.Payload.Length)];
        WalFormat.WriteFrame(frame, damage.Payload);
        using var file = new FileStream(Path.Combine(copy.Path, segments[^1]), FileMode.Open, FileAccess.Write);
        file.Position = end; // where the next append would have gone: the end, or where the zeros start
        file.Write(frame, 0, 1 + (damage.At % (frame.Length - 1)));
        return true;
    }

    private static IEnumerable<(string Path, WalPosition Position, int Length)> Frames(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var number = WalFormat.SegmentNumber(Path.GetFileName(path))!.Value;
        for (var at = WalFormat.HeaderBytes; at < bytes.Length && bytes.AsSpan(at).IndexOfAnyExcept((byte)0) >= 0;)
        {
            Assert.Equal(FrameRead.Valid, WalFormat.ReadFrame(bytes, at, out var payload));
            var length = WalFormat.FrameBytes(payload.Length);
            yield return (path, new WalPosition(number, at), length);
            at += length;
        }
    }

    /// <summary>The log's segment size, and whether it makes segments ahead.</summary>
    public sealed record Sizes(int Bytes, bool Preallocate);

    public sealed record Op(byte[][]? Payloads, int Pick, int Count);

    public sealed record Damage(bool Torn, bool Corrupt, int Record, int At, byte[] Payload);
}
