using System.Text;
using TrackerService.Durability;

namespace TrackerService.Tests.Durability;

/// <summary>The write-ahead log's appends, confirmations, recovery and faults, on a real folder.</summary>
public sealed class WriteAheadLogTests : IDisposable
{
    private readonly WalFolder _folder = new();

    [Fact]
    public async Task UnconfirmedRecordsComeBackInOrderAfterReopen()
    {
        var positions = new List<WalPosition>();
        await using (var log = await WalFolder.OpenAsync(_folder.Options(segmentBytes: 100)))
        {
            for (var i = 0; i < 10; i++)
            {
                positions.Add(await log.AppendAsync(Payload(i), CancellationToken.None));
            }

            Assert.True(log.Segments > 1, "small segments roll");
            log.Confirm(positions[0]);
            log.Confirm(positions[2]);
        }

        await using var reopened = await WalFolder.OpenAsync(_folder.Options(segmentBytes: 100));

        Assert.Equal(positions.Order(), positions);
        // The checkpoint passes the contiguous prefix (0); 2 was confirmed out of order, and is redelivered.
        Assert.Equal(positions.Skip(1), reopened.Recovered.Select(r => r.Position));
        Assert.Equal(Enumerable.Range(1, 9).Select(i => Encoding.UTF8.GetString(Payload(i))), reopened.Recovered.Select(r => Encoding.UTF8.GetString(r.Payload)));
    }

    [Fact]
    public async Task ASegmentWhollyConfirmedIsDeletedAndItsRecordsDoNotComeBack()
    {
        await using (var log = await WalFolder.OpenAsync(_folder.Options(segmentBytes: 100)))
        {
            var positions = new List<WalPosition>();
            for (var i = 0; i < 10; i++)
            {
                positions.Add(await log.AppendAsync(Payload(i), CancellationToken.None));
            }

            var first = positions.Where(p => p.Segment == positions[0].Segment).ToList();
            foreach (var p in first.AsEnumerable().Reverse())
            {
                log.Confirm(p);
            }

            await log.HousekeepAsync();
            Assert.DoesNotContain(WalFormat.SegmentName(positions[0].Segment), _folder.Segments());
        }

        await using var reopened = await WalFolder.OpenAsync(_folder.Options(segmentBytes: 100));
        Assert.DoesNotContain(reopened.Recovered, r => r.Payload.SequenceEqual(Payload(0)));
        Assert.Equal(Payload(9), reopened.Recovered[^1].Payload);
    }

    [Fact]
    public async Task ManyConcurrentAppendsShareFewSyncs()
    {
        var storage = new WalTestStorage();
        await using var log = await WalFolder.OpenAsync(_folder.Options(), storage);
        using var gate = new ManualResetEventSlim();
        storage.SyncGate = gate;
        var first = log.AppendAsync(Payload(-1), CancellationToken.None).AsTask();
        Assert.True(storage.AtGate.Wait(TimeSpan.FromSeconds(30)), "the first commit reached its sync");
        using var called = new CountdownEvent(200);
        var appends = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            var append = log.AppendAsync(Payload(i), CancellationToken.None);
            called.Signal();
            return await append;
        })).ToList();
        Assert.True(called.Wait(TimeSpan.FromSeconds(30)), "every append was made");
        gate.Set();
        var positions = await Task.WhenAll(appends.Append(first));

        Assert.Equal(201, positions.Distinct().Count());
        Assert.True(log.Syncs < 20, $"{log.Syncs} segment syncs for 201 appends");
    }

    [Fact]
    public async Task ATornTailIsCutOffKeptAsideAndTheLogAppendsAfterIt()
    {
        await using (var log = await WalFolder.OpenAsync(_folder.Options()))
        {
            await log.AppendAsync(Payload(1), CancellationToken.None);
            await log.AppendAsync(Payload(2), CancellationToken.None);
        }

        var segment = Path.Combine(_folder.Path, _folder.Segments()[^1]);
        var length = new FileInfo(segment).Length;
        var frame = new byte[WalFormat.FrameBytes(100)];
        WalFormat.WriteFrame(frame, new byte[100]);
        await using (var tail = new FileStream(segment, FileMode.Append))
        {
            tail.Write(frame, 0, 57);
        }

        await using (var log = await WalFolder.OpenAsync(_folder.Options()))
        {
            Assert.Equal([Payload(1), Payload(2)], log.Recovered.Select(r => r.Payload));
            Assert.Equal(length, new FileInfo(segment).Length);
            Assert.Equal([_folder.Segments()[0] + ".torn"], _folder.SetAside());
            await log.AppendAsync(Payload(3), CancellationToken.None);
        }

        await using var again = await WalFolder.OpenAsync(_folder.Options());
        Assert.Equal([Payload(1), Payload(2), Payload(3)], again.Recovered.Select(r => r.Payload));
    }

    [Fact]
    public async Task ACorruptRecordSetsItsSegmentAsideKeepingTheRecordsBeforeIt()
    {
        var positions = new List<WalPosition>();
        await using (var log = await WalFolder.OpenAsync(_folder.Options()))
        {
            for (var i = 0; i < 4; i++)
            {
                positions.Add(await log.AppendAsync(Payload(i), CancellationToken.None));
            }
        }

        var segment = Path.Combine(_folder.Path, _folder.Segments()[0]);
        var bytes = await File.ReadAllBytesAsync(segment);
        bytes[positions[2].Offset + WalFormat.FrameHeaderBytes + 1] ^= 0x40;
        await File.WriteAllBytesAsync(segment, bytes);

        await using var reopened = await WalFolder.OpenAsync(_folder.Options());

        Assert.Equal([Payload(0), Payload(1)], reopened.Recovered.Select(r => r.Payload));
        Assert.Equal([Path.GetFileName(segment)], _folder.SetAside());
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(_folder.Corrupt, Path.GetFileName(segment))));
    }

    [Fact]
    public async Task AnAppendPastMaxBytesIsRefusedWithoutWriting()
    {
        await using var log = await WalFolder.OpenAsync(_folder.Options(maxBytes: 300));
        await log.AppendAsync(new byte[200], CancellationToken.None);
        var bytes = log.Bytes;

        await Assert.ThrowsAsync<WalFullException>(async () => await log.AppendAsync(new byte[100], CancellationToken.None));
        Assert.Equal(bytes, log.Bytes);
        await log.AppendAsync(new byte[10], CancellationToken.None);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AFailedCommitFailsItsAppendsLeavesNothingAndTheLogGoesOn(bool failSync)
    {
        var storage = new WalTestStorage();
        await using (var log = await WalFolder.OpenAsync(_folder.Options(), storage))
        {
            await log.AppendAsync(Payload(1), CancellationToken.None);
            var segment = Path.Combine(_folder.Path, _folder.Segments()[0]);
            var length = new FileInfo(segment).Length;
            (storage.FailSyncs, storage.FailWrites) = (failSync, !failSync);

            var failed = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => Assert.ThrowsAsync<IOException>(async () => await log.AppendAsync(Payload(100 + i), CancellationToken.None))));

            Assert.All(failed, e => Assert.IsNotType<WalFullException>(e));
            Assert.Equal(length, new FileInfo(segment).Length);
            (storage.FailSyncs, storage.FailWrites) = (false, false);
            await log.AppendAsync(Payload(2), CancellationToken.None);
            Assert.Equal(2, _folder.Segments().Length); // nothing more is trusted to a file whose commit failed
        }

        await using var reopened = await WalFolder.OpenAsync(_folder.Options());
        Assert.Equal([Payload(1), Payload(2)], reopened.Recovered.Select(r => r.Payload));
        Assert.Empty(_folder.SetAside());
    }

    [Fact]
    public async Task AnAppendCancelledBeforeItsCommitIsNotWritten()
    {
        await using var log = await WalFolder.OpenAsync(_folder.Options());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await log.AppendAsync(Payload(1), cancelled.Token));
        Assert.Equal(0, log.Bytes);
        Assert.Empty(_folder.Segments());
    }

    [Fact]
    public async Task AFolderThatCannotBeUsedIsOneClearError()
    {
        var file = Path.Combine(_folder.Path, "not-a-folder");
        await File.WriteAllTextAsync(file, "x");

        var error = await Assert.ThrowsAsync<IOException>(() => WalFolder.OpenAsync(new WalOptions { Directory = file }));

        Assert.Contains("Tracker:Durability:Directory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADirectoryFsyncWorksAndAMissingOneFails()
    {
        // .NET opens no handle on a folder, hence open(2) through libc.
        Assert.Throws<UnauthorizedAccessException>(() => File.OpenHandle(_folder.Path, FileMode.Open, FileAccess.Read).Dispose());
        DiskSync.Directory(_folder.Path);
        Assert.Throws<IOException>(() => DiskSync.Directory(Path.Combine(_folder.Path, "missing")));
    }

    public void Dispose() => _folder.Dispose();

    private static byte[] Payload(int i) => Encoding.UTF8.GetBytes($"{{\"event\":\"e{i}\",\"pad\":\"{new string('x', Math.Abs(i) % 7)}\"}}");
}
