using System.Threading.Channels;

namespace TrackerService.Durability;

/// <summary>
/// Writes the checkpoint and deletes confirmed segments off the confirming threads: one loop, woken by
/// <see cref="Signal"/>, doing in one round all that piled up since the last (confirmations batch naturally). The
/// checkpoint goes to a temporary file, is fsynced and renamed over the old one; the folder is fsynced at the end
/// only (losing the newest checkpoint in a crash means redelivery, which the store's unique messageId makes harmless).
/// </summary>
internal sealed class WalHousekeeper
{
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly string _folder;
    private readonly WalLedger _ledger;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private readonly Lock _round = new();
    private WalPosition _written;

    public WalHousekeeper(string folder, WalLedger ledger, WalPosition written, ILogger logger)
    {
        (_folder, _ledger, _written, _logger) = (folder, ledger, written, logger);
        _loop = Task.Run(RunAsync);
    }

    public void Signal() => _signal.Writer.TryWrite(true);

    /// <summary>Runs a round now (a test's way to know what is on disk).</summary>
    public Task RoundAsync() => Task.Run(() => Round(final: false));

    /// <summary>Ends the loop after a last round, with the folder fsynced.</summary>
    public async Task StopAsync()
    {
        _signal.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        Round(final: true);
    }

    private async Task RunAsync()
    {
        while (await _signal.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            _signal.Reader.TryRead(out _);
            Round(final: false);
        }
    }

    private void Round(bool final)
    {
        lock (_round)
        {
            RoundLocked(final);
        }
    }

    private void RoundLocked(bool final)
    {
        var checkpoint = _ledger.Checkpoint;
        if (checkpoint != _written || final)
        {
            try
            {
                var path = Path.Combine(_folder, WalFormat.CheckpointName);
                using (var file = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write, FileShare.None))
                {
                    file.Write(WalFormat.Checkpoint(checkpoint));
                    file.Flush(flushToDisk: true);
                }

                File.Move(path + ".tmp", path, overwrite: true);
                if (final)
                {
                    DiskStorage.Instance.SyncDirectory(_folder);
                }

                _written = checkpoint;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                WalLog.CheckpointFailed(_logger, ex.Message);
            }
        }

        foreach (var segment in _ledger.TakeDone())
        {
            try
            {
                File.Delete(segment.Path);
                _ledger.Removed(segment);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                WalLog.NotRemoved(_logger, segment.Path, ex.Message);
            }
        }
    }
}
