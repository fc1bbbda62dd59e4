using System.Buffers;
using Microsoft.Extensions.Options;
using TrackerService.Durability;
using TrackerService.Events;

namespace TrackerService.Pipeline;

/// <summary>
/// The one way a request's events are taken. In <see cref="DurabilityMode.Memory"/> they are queued. In
/// <see cref="DurabilityMode.Disk"/> they are first appended to the write-ahead log, which answers once they are
/// synced to disk (group commit: one sync carries every request that arrived during the one before), then queued with
/// a receipt that confirms the log's record once the consumers have stored or spilled all of them. At start, the
/// records a crash left unconfirmed are queued again (<see cref="RecoverAsync"/>); the store's unique messageId makes
/// the ones stored before the crash harmless.
/// </summary>
/// <remarks>
/// Hosted before the consumers, so the log is open before any request and closed after the last confirmation.
/// Each record holds its request's events as spill lines (<see cref="WalPayload"/>): one format on disk.
/// </remarks>
internal sealed partial class DurableIntake(
    EventQueue queue, IOptions<DurabilityOptions> options, TrackerService.Telemetry.TrackerTelemetry telemetry, ILogger<DurableIntake> logger)
    : IHostedService, IAsyncDisposable
{
    /// <summary>How long recovery waits before offering a record again to a queue that had no room.</summary>
    private static readonly TimeSpan RecoveryPause = TimeSpan.FromMilliseconds(50);

    private readonly CancellationTokenSource _stopping = new(); // no timer: nothing to dispose
    private WriteAheadLog? _log;
    private Task _recovery = Task.CompletedTask;

    /// <summary>The log, in Disk mode once started; null in Memory mode.</summary>
    internal WriteAheadLog? Log => _log;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.IsDisk)
        {
            return;
        }

        var log = await WriteAheadLog.OpenAsync(
            new WalOptions { Directory = o.Directory, MaxBytes = o.MaxBytes, SegmentBytes = o.SegmentBytes, Preallocate = o.PreallocateSegments }, logger, telemetry, cancellationToken).ConfigureAwait(false);
        _log = log;
        LogOpened(logger, o.Directory, log.Recovered.Count, log.Bytes, log.Segments);
        if (log.Recovered.Count > 0)
        {
            _recovery = Task.Run(() => RecoverAsync(log, _stopping.Token), CancellationToken.None);
        }
    }

    /// <summary>Takes a request's events: queued (Memory), or synced to the log and then queued (Disk).</summary>
    /// <returns>
    /// <see cref="EnqueueResult.Accepted"/> once they are taken; otherwise nothing of the request is: the queue is full
    /// or closed, or the log is full or could not be written (<see cref="EnqueueResult.Unavailable"/>).
    /// </returns>
    public async ValueTask<EnqueueResult> AcceptAsync(TrackedEvent[] events, CancellationToken cancellationToken)
    {
        if (_log is not { } log)
        {
            return await queue.EnqueueAsync(events, cancellationToken).ConfigureAwait(false);
        }

        if (queue.IsClosed)
        {
            return EnqueueResult.Closed; // not written: the answer will be a 503
        }

        WalPosition position;
        try
        {
            position = await log.AppendAsync(WalPayload.Lines(events), cancellationToken).ConfigureAwait(false);
        }
        catch (WalFullException)
        {
            return EnqueueResult.Full;
        }
        catch (IOException ex)
        {
            LogAppendFailed(logger, ex, events.Length);
            return EnqueueResult.Unavailable;
        }

        var receipt = new DeliveryReceipt(events.Length, () => Confirm(log, position));
        var result = await queue.EnqueueAsync(events, cancellationToken, receipt).ConfigureAwait(false);
        if (result != EnqueueResult.Accepted)
        {
            // Durable, but the client is told it was not taken and sends it again: the record is done with.
            receipt.Delivered(events.Length);
        }

        return result;
    }

    /// <summary>Queues the records a crash left, oldest first, waiting for room as long as it takes.</summary>
    private async Task RecoverAsync(WriteAheadLog log, CancellationToken stopping)
    {
        var records = log.Recovered;
        foreach (var record in records)
        {
            var events = WalPayload.Read(record.Payload);
            if (events.Length == 0)
            {
                Confirm(log, record.Position); // nothing in it to deliver (a receipt of no events would never be told)
                continue;
            }

            var receipt = new DeliveryReceipt(events.Length, () => Confirm(log, record.Position));
            while (true)
            {
                var result = await queue.EnqueueAsync(events, stopping, receipt).ConfigureAwait(false);
                if (result == EnqueueResult.Accepted)
                {
                    break;
                }

                if (result == EnqueueResult.Closed || stopping.IsCancellationRequested)
                {
                    return; // stopping: the rest stays in the log for the next start
                }

                // Full: refused at once when many requests already wait, so pause rather than spin.
                await Task.Delay(RecoveryPause, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        log.ReleaseRecovered(); // their events are queued now; the log need not hold their payloads too
        LogRecovered(logger, records.Count);
    }

    private static void Confirm(WriteAheadLog log, WalPosition position)
    {
        try
        {
            log.Confirm(position);
        }
        catch (ObjectDisposedException)
        {
            // A batch confirmed after the log closed (a consumer cut short at the deadline): redelivered next start.
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _recovery.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (Interlocked.Exchange(ref _log, null) is { } log)
        {
            LogClosing(logger, log.Bytes, log.Segments);
            await log.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <remarks>The host may dispose it before or without <see cref="StopAsync"/>: stopping stays usable, and the log closes once.</remarks>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _log, null) is { } log)
        {
            await log.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 250, Level = LogLevel.Information, Message = "Write-ahead log open at {Directory:l}: {Records} unconfirmed records to deliver, {Bytes} bytes in {Segments} segments")]
    private static partial void LogOpened(ILogger logger, string directory, int records, long bytes, int segments);

    [LoggerMessage(EventId = 251, Level = LogLevel.Information, Message = "The {Records} records recovered from the write-ahead log are queued for the store")]
    private static partial void LogRecovered(ILogger logger, int records);

    [LoggerMessage(EventId = 252, Level = LogLevel.Error, Message = "The write-ahead log could not take a request of {Events} events; it was refused with 503")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, int events);

    [LoggerMessage(EventId = 253, Level = LogLevel.Information, Message = "Write-ahead log closed with {Bytes} bytes in {Segments} segments: what is unconfirmed is delivered at the next start")]
    private static partial void LogClosing(ILogger logger, long bytes, int segments);
}
