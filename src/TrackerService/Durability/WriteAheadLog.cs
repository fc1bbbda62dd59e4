using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;
using TrackerService.Telemetry;

namespace TrackerService.Durability;

/// <summary>
/// A segmented, append-only, checksummed log on local disk: an append returns once its record is durable. One
/// writer loop takes every append waiting, writes all their frames, syncs once and completes them all (group commit:
/// appends arriving during a sync go into the next one; no timer). Confirmed records are checkpointed, and a segment
/// all of whose records are confirmed is deleted. The file format is in <see cref="WalFormat"/>, recovery in
/// <see cref="WalRecovery"/>.
/// </summary>
internal sealed partial class WriteAheadLog : IAsyncDisposable
{
    private readonly Channel<PendingAppend> _appends = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly WalOptions _options;
    private readonly string _folder;
    private readonly ILogger _logger;
    private readonly TrackerTelemetry? _telemetry;
    private readonly IWalStorage _storage;
    private readonly WalLedger _ledger;
    private readonly WalHousekeeper _housekeeper;
    private readonly WalSpare? _spare;
    private readonly Task _writer;
    private readonly List<WalPosition> _positions = [];
    private long _nextSegment;
    private long _reserved;
    private long _syncs;
    private SafeFileHandle? _file;
    private WalSegment? _segment;
    private int _disposed;

    private WriteAheadLog(WalOptions options, string folder, WalRecoveryResult recovered, ILogger logger, TrackerTelemetry? telemetry, IWalStorage storage)
    {
        (_options, _folder, _logger, _telemetry, _storage) = (options, folder, logger, telemetry, storage);
        Recovered = recovered.Records;
        _nextSegment = recovered.NextSegment;
        _ledger = new WalLedger(recovered);
        _housekeeper = new WalHousekeeper(folder, _ledger, recovered.Checkpoint, logger);
        telemetry?.ObserveWal(() => _ledger.Bytes, () => _ledger.Segments);
        _spare = options.Preallocate ? new WalSpare(folder, options.SegmentBytes, logger) : null;
        _spare?.Prepare();
        _writer = StartWriter();
    }

    /// <summary>Records found at open that were never confirmed, in order (empty after <see cref="ReleaseRecovered"/>).</summary>
    public IReadOnlyList<WalRecord> Recovered { get; private set; }

    /// <summary>Lets go of <see cref="Recovered"/>'s payloads once they are handed on (their positions still take <see cref="Confirm"/>).</summary>
    public void ReleaseRecovered() => Recovered = [];

    /// <summary>Bytes of the log's segments (written and not yet deleted).</summary>
    public long Bytes => _ledger.Bytes;

    public int Segments => _ledger.Segments;

    /// <summary>Records appended (or recovered) and not yet confirmed.</summary>
    public int Unconfirmed => _ledger.Unconfirmed;

    /// <summary>Whether the next segment is made and waiting (<see cref="WalSpare"/>; a test waits for it).</summary>
    internal bool SpareReady => _spare?.IsReady == true;

    /// <summary>Syncs of segment files so far (group commit: far fewer than appends under concurrency).</summary>
    internal long Syncs => Interlocked.Read(ref _syncs);

    /// <summary>
    /// Opens the log in <see cref="WalOptions.Directory"/> (created if missing) and recovers what it holds (see
    /// <see cref="WalRecovery"/>). Damaged content never throws; a folder that cannot be used throws one
    /// <see cref="IOException"/> saying so.
    /// </summary>
    public static Task<WriteAheadLog> OpenAsync(WalOptions options, ILogger logger, TrackerTelemetry? telemetry, CancellationToken cancellationToken) =>
        OpenAsync(options, logger, telemetry, DiskStorage.Instance, cancellationToken);

    /// <summary>Opens the log over <paramref name="storage"/> (a test's faults).</summary>
    internal static Task<WriteAheadLog> OpenAsync(
        WalOptions options, ILogger logger, TrackerTelemetry? telemetry, IWalStorage storage, CancellationToken cancellationToken) =>
        Task.Run(
            () =>
            {
                var folder = Path.GetFullPath(options.Directory);
                WalRecoveryResult recovered;
                try
                {
                    Directory.CreateDirectory(folder);
                    recovered = WalRecovery.Recover(folder, logger, telemetry);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new IOException($"The write-ahead log's folder {folder} (Tracker:Durability:Directory) cannot be used: {ex.Message}", ex);
                }

                var log = new WriteAheadLog(options, folder, recovered, logger, telemetry, storage);
                WalLog.Opened(logger, folder, recovered.Records.Count, log.Segments, log.Bytes, recovered.Checkpoint);
                return log;
            },
            cancellationToken);

    /// <summary>
    /// Appends one record and returns its position once it is durable. Fails with <see cref="WalFullException"/>
    /// (nothing written) when the log holds <see cref="WalOptions.MaxBytes"/>, with the <see cref="IOException"/> of a
    /// failed write or sync (nothing of it kept), or cancelled if <paramref name="cancellationToken"/> is cancelled
    /// before its commit starts. <paramref name="payload"/> must not change until the task completes.
    /// </summary>
    public ValueTask<WalPosition> AppendAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, WalFormat.MaxPayloadBytes, nameof(payload));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<WalPosition>(cancellationToken);
        }

        var bytes = WalFormat.FrameBytes(payload.Length);
        if (_ledger.Bytes + Interlocked.Add(ref _reserved, bytes) > _options.MaxBytes)
        {
            Interlocked.Add(ref _reserved, -bytes);
            return ValueTask.FromException<WalPosition>(new WalFullException(
                $"The write-ahead log holds {_ledger.Bytes} bytes of its {_options.MaxBytes} (Tracker:Durability:MaxBytes); try again once the store catches up."));
        }

        var pending = new PendingAppend(payload, cancellationToken);
        if (!_appends.Writer.TryWrite(pending))
        {
            Interlocked.Add(ref _reserved, -bytes);
            return ValueTask.FromException<WalPosition>(new ObjectDisposedException(nameof(WriteAheadLog)));
        }

        return new ValueTask<WalPosition>(pending.Task);
    }

    /// <summary>The record at <paramref name="position"/> (from <see cref="AppendAsync"/> or <see cref="Recovered"/>) is stored. Cheap, thread-safe, any order.</summary>
    public void Confirm(WalPosition position)
    {
        if (_ledger.Confirm(position))
        {
            _housekeeper.Signal();
        }
    }

    /// <summary>Writes the checkpoint and deletes the confirmed segments now, not in the background (for tests).</summary>
    internal Task HousekeepAsync() => _housekeeper.RoundAsync();

    /// <summary>Finishes the pending commits, writes the checkpoint and closes the files.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _appends.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _spare?.Dispose();
        await _housekeeper.StopAsync().ConfigureAwait(false);
        _housekeeper.Dispose();
        _file?.Dispose();
    }
}
