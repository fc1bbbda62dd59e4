namespace TrackerService.Durability;

/// <summary>
/// The next segment, made before it is needed: a file of the segment's size, its header written and the rest zeros,
/// synced. A commit into it overwrites blocks the filesystem already holds, so its sync writes the data and nothing
/// more: no block allocation and no journal commit for a new file size. <c>bench/run</c>'s durability section measures
/// both on the machine at hand (docs/performance.md): on this project's ext4 disk, 32 KB syncs over zeros ran 1.8 times
/// as fast as appended ones, for less CPU each. PostgreSQL zero-fills its WAL segments for the same reason.
/// </summary>
/// <remarks>
/// Made on a thread of its own while the current segment fills, so no commit waits for it. When none is ready (the
/// first segment after a start, a disk too full for a whole segment), the writer starts a segment that grows as it is
/// written, as without a spare: the spare makes syncs cheaper, never the log's correctness depend on it. A zero tail
/// is where a segment's records end (<see cref="WalRecovery"/>): no frame is all zeros, as its CRC covers its length.
/// </remarks>
internal sealed class WalSpare : IDisposable
{
    /// <summary>The spare's name in the log's folder: not a segment's, so recovery never reads it (it removes it).</summary>
    public const string FileName = "next.spare";

    private static readonly byte[] Zeros = new byte[1 << 20];

    private readonly string _path;
    private readonly long _bytes;
    private readonly ILogger _logger;
    private Thread? _making;
    private volatile bool _ready;
    private volatile bool _stopping;
    private bool _failing;

    public WalSpare(string folder, long bytes, ILogger logger) =>
        (_path, _bytes, _logger) = (Path.Combine(folder, FileName), Math.Max(bytes, WalFormat.HeaderBytes), logger);

    /// <summary>Whether a spare is ready to be taken.</summary>
    public bool IsReady => _ready;

    /// <summary>Starts making a spare unless one is ready or being made. Called by the writer only.</summary>
    public void Prepare()
    {
        if (_ready || _stopping || _making is { IsAlive: true })
        {
            return;
        }

        _making = new Thread(Make) { IsBackground = true, Name = "tracker-wal-spare" };
        _making.Start();
    }

    /// <summary>Renames the ready spare to <paramref name="path"/>, header and zeros in it. Called by the writer only.</summary>
    /// <returns>False when none is ready (or it could not be moved): the caller makes a segment of its own.</returns>
    public bool TryTake(string path)
    {
        if (!_ready)
        {
            return false;
        }

        _ready = false;
        try
        {
            File.Move(_path, path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            WalLog.SpareFailed(_logger, ex.Message);
            return false;
        }
    }

    /// <summary>Stops a spare being made and removes what is not a whole one.</summary>
    public void Dispose()
    {
        _stopping = true;
        _making?.Join();
    }

    private void Make()
    {
        try
        {
            File.Delete(_path);
            using (var file = File.OpenHandle(_path, FileMode.CreateNew, FileAccess.Write, FileShare.Read))
            {
                Span<byte> header = stackalloc byte[WalFormat.HeaderBytes];
                WalFormat.WriteHeader(header);
                RandomAccess.Write(file, header, 0);
                for (long at = WalFormat.HeaderBytes; at < _bytes; at += Zeros.Length)
                {
                    if (_stopping)
                    {
                        break;
                    }

                    RandomAccess.Write(file, Zeros.AsSpan(0, (int)Math.Min(Zeros.Length, _bytes - at)), at);
                }

                if (!_stopping)
                {
                    DiskSync.Data(file);
                }
            }

            if (_stopping)
            {
                WalRepair.Remove(_path, _logger);
                return;
            }

            (_ready, _failing) = (true, false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            WalRepair.Remove(_path, _logger);
            if (!_failing)
            {
                _failing = true; // said once until a spare is made again: a full disk would say it at every segment
                WalLog.SpareFailed(_logger, ex.Message);
            }
        }
    }
}
