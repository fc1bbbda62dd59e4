using TrackerService.Durability;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Durability;

/// <summary>The log on a real, small filesystem (tmpfs, as root): a full disk fails the commit, keeps the log whole, and passes once space is back.</summary>
public sealed class WalDiskFullTests : IDisposable
{
    private readonly WalFolder _folder = new();
    private bool _mounted;

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)] // segments made ahead: the spare can't be made once the disk is full, and the log goes on without
    public async Task AFullDiskFailsTheCommitKeepsWhatWasAcknowledgedAndTheLogGoesOnOnceSpaceIsBack(bool preallocate)
    {
        _mounted = Shell.Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", _folder.Path);
        Skip.IfNot(_mounted, "tmpfs can't be mounted here (needs root and a kernel that allows it)");
        var options = _folder.Options(segmentBytes: 64 << 10, preallocate: preallocate);
        var acknowledged = new List<WalRecord>();
        await using (var log = await WalFolder.OpenAsync(options))
        {
            // When appends fill the disk
            IOException? failure = null;
            for (var i = 0; failure is null; i++)
            {
                var payload = Enumerable.Repeat((byte)i, 4000).ToArray();
                try
                {
                    acknowledged.Add(new WalRecord(await log.AppendAsync(payload, CancellationToken.None), payload));
                }
                catch (IOException ex)
                {
                    failure = ex;
                }
            }

            // Then the append fails with the disk's error, not as a full log, and every segment holds whole frames only
            Assert.IsNotType<WalFullException>(failure);
            Assert.True(acknowledged.Count > 100, $"only {acknowledged.Count} appends fitted");
            var ends = _folder.Segments().Sum(s => WalFolder.RecordsEnd(Path.Combine(_folder.Path, s)));
            Assert.Equal(log.Bytes, ends);

            // And once confirmed segments are deleted, appends succeed again
            foreach (var record in acknowledged.Take(acknowledged.Count - 10))
            {
                log.Confirm(record.Position);
            }

            await log.HousekeepAsync();
            var payloadAfter = new byte[4000];
            acknowledged.Add(new WalRecord(await log.AppendAsync(payloadAfter, CancellationToken.None), payloadAfter));
        }

        await using var reopened = await WalFolder.OpenAsync(options);
        var unconfirmed = acknowledged.Skip(acknowledged.Count - 11).ToList();
        Assert.Equal(unconfirmed.Select(r => r.Position), reopened.Recovered.Select(r => r.Position));
        Assert.Equal(unconfirmed.Select(r => r.Payload), reopened.Recovered.Select(r => r.Payload));
        Assert.Empty(_folder.SetAside());
    }

    public void Dispose()
    {
        if (_mounted)
        {
            Shell.Run("umount", _folder.Path);
        }

        _folder.Dispose();
    }
}
