using TrackerService.Durability;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Durability;

/// <summary>Segments made ahead, zero-filled (<see cref="WalSpare"/>): used when ready, read back up to their zeros, torn like any other.</summary>
public sealed class WalSpareTests : IDisposable
{
    private const int SegmentBytes = 4096;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly WalFolder _folder = new();

    [Fact]
    public async Task ASegmentMadeAheadIsTakenWholeAndItsRecordsComeBackUpToItsZeros()
    {
        var payloads = Enumerable.Range(0, 12).Select(i => Enumerable.Repeat((byte)('a' + i), 900).ToArray()).ToList();
        await using (var log = await WalFolder.OpenAsync(_folder.Options(SegmentBytes, preallocate: true)))
        {
            foreach (var payload in payloads)
            {
                // Given the next segment made ahead each time one is about to be needed
                Assert.True(await Eventually.TrueAsync(() => Task.FromResult(log.SpareReady), Patience), "the spare is made");
                await log.AppendAsync(payload, CancellationToken.None);
            }

            Assert.True(log.Segments >= 3, "the records span segments");
        }

        // Then each segment is the spare's full size, its records followed by zeros
        var segments = _folder.Segments();
        Assert.All(segments, s => Assert.Equal(SegmentBytes, new FileInfo(Path.Combine(_folder.Path, s)).Length));
        Assert.All(segments, s => Assert.True(WalFolder.RecordsEnd(Path.Combine(_folder.Path, s)) < SegmentBytes));

        // And all of them come back, nothing set aside, and the spare left behind is not taken for a segment
        await using var reopened = await WalFolder.OpenAsync(_folder.Options(SegmentBytes, preallocate: true));
        Assert.Equal(payloads, reopened.Recovered.Select(r => r.Payload));
        Assert.Empty(_folder.SetAside());
    }

    [Fact]
    public async Task AnAppendTornInASegmentMadeAheadIsCutOffAsATornTail()
    {
        byte[] first = [1, 2, 3, 4, 5], second = [6, 7, 8];
        string segment;
        await using (var log = await WalFolder.OpenAsync(_folder.Options(SegmentBytes, preallocate: true)))
        {
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(log.SpareReady), Patience), "the spare is made");
            await log.AppendAsync(first, CancellationToken.None);
            segment = Path.Combine(_folder.Path, _folder.Segments()[0]);
            Assert.Equal(SegmentBytes, new FileInfo(segment).Length);
        }

        // Given an append cut short where the zeros start: the frame's first bytes written, the rest still zeros
        var end = WalFolder.RecordsEnd(segment);
        var frame = new byte[WalFormat.FrameBytes(200)];
        WalFormat.WriteFrame(frame, Enumerable.Repeat((byte)9, 200).ToArray());
        await using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write))
        {
            file.Position = end;
            file.Write(frame, 0, 120);
        }

        // Then the record before it comes back, the torn bytes are kept aside (and only they), and the log goes on
        await using (var log = await WalFolder.OpenAsync(_folder.Options(SegmentBytes, preallocate: true)))
        {
            Assert.Equal([first], log.Recovered.Select(r => r.Payload));
            Assert.Equal([Path.GetFileName(segment) + ".torn"], _folder.SetAside());
            Assert.Equal(frame[..120], await File.ReadAllBytesAsync(Path.Combine(_folder.Corrupt, Path.GetFileName(segment) + ".torn")));
            await log.AppendAsync(second, CancellationToken.None);
        }

        await using var again = await WalFolder.OpenAsync(_folder.Options(SegmentBytes, preallocate: true));
        Assert.Equal([first, second], again.Recovered.Select(r => r.Payload));
    }

    [Fact]
    public async Task ASpareLeftByAnEarlierRunIsRemovedWhenTheLogMakesNone()
    {
        await using (var log = await WalFolder.OpenAsync(_folder.Options(SegmentBytes, preallocate: true)))
        {
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(log.SpareReady), Patience), "the spare is made");
        }

        Assert.True(File.Exists(Path.Combine(_folder.Path, WalSpare.FileName)));
        await using var reopened = await WalFolder.OpenAsync(_folder.Options(SegmentBytes, preallocate: false));
        Assert.False(File.Exists(Path.Combine(_folder.Path, WalSpare.FileName)));
        Assert.Empty(reopened.Recovered);
    }

    public void Dispose() => _folder.Dispose();
}
