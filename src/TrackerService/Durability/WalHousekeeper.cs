using System.Threading.Channels;

namespace TrackerService.Durability;

/// <summary>
/// Writes the checkpoint and deletes confirmed segments off the confirming threads: one loop, woken by
/// <see cref="Signal"/>, doing in one round all that piled up since the last (confirmations batch naturally). The
/// checkpoint goes to a temporary file, is fsynced and renamed over the old one; the folder is fsynced at the end
/// only (losing the newest checkpoint in a crash means redelivery, which the store's unique messageId makes harmless).
/// After a checkpoint write the loop rests <see cref="Rest"/>, so its fsyncs do not compete with the commits' under load.
/// </summary>
internal sealed class WalHousekeeper : IDisposable
{
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly string _folder;
    private readonly WalLedger _ledger;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private readonly Lock _round = new();
    private readonly CancellationTokenSource _stopping = new();
    private WalPosition _written;

    public WalHousekeeper(string folder, WalLedger ledger, WalPosition written, ILogger logger)
    {
        (_folder, _ledger, _written, _logger) = (folder, ledger, written, logger);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The least time between two checkpoint writes (a commit's sync, by contrast, never waits).</summary>
    public static TimeSpan Rest { get; } = TimeSpan.FromMilliseconds(100);

    public void Signal() => _signal.Writer.TryWrite(true);

    /// <summary>Runs a round now (a test's way to know what is on disk).</summary>
    public Task RoundAsync() => Task.Run(() => { _ = Round(final: false); });

    /// <summary>Ends the loop after a last round, with the folder fsynced.</summary>
    public async Task StopAsync()
    {
        _signal.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _ = Round(final: true);
    }

    public void Dispose() => _stopping.Dispose();

    private async Task RunAsync()
    {
        while (await _signal.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            _signal.Reader.TryRead(out _);
            if (Round(final: false))
            {
                try
                {
                    await Task.Delay(Rest, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Stopping: the last round follows.
                }
            }
        }
    }

    /// <returns>True when it wrote the checkpoint.</returns>
    private bool Round(bool final)
    {
        lock (_round)
        {
            return RoundLocked(final);
        }
    }

    private bool RoundLocked(bool final)
    {
        var checkpoint = _ledger.Checkpoint;
        var write = checkpoint != _written || final;
        if (write)
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

        return write;
    }
}
