using System.Buffers;
using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace TrackerService.Durability;

/// <summary>The writer loop: group commits, and starting segments.</summary>
internal sealed partial class WriteAheadLog
{
    /// <summary>
    /// Runs the writer loop on a thread of its own: a commit blocks in write and sync, and a pool thread blocked there
    /// is one fewer for the requests (on two cores, half of them), and would be woken through the pool after each sync.
    /// </summary>
    private Task StartWriter()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                WriteLoop();
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "tracker-wal-writer",
        };
        thread.Start();
        return done.Task;
    }

    private void WriteLoop()
    {
        var batch = new List<PendingAppend>();
        var reader = _appends.Reader;
        var most = Math.Max(1L << 20, Math.Min(_options.SegmentBytes, 16L << 20));
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            long bytes = 0;
            while (bytes < most && reader.TryRead(out var pending))
            {
                if (pending.CancellationToken.IsCancellationRequested)
                {
                    Interlocked.Add(ref _reserved, -WalFormat.FrameBytes(pending.Payload.Length));
                    pending.TrySetCanceled(pending.CancellationToken);
                    continue;
                }

                batch.Add(pending);
                bytes += WalFormat.FrameBytes(pending.Payload.Length);
            }

            if (batch.Count > 0)
            {
                Commit(batch, (int)bytes);
                batch.Clear();
            }
        }
    }

    private void Commit(List<PendingAppend> batch, int bytes)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(bytes);
        long start = -1;
        try
        {
            var (file, segment) = SegmentFor(bytes);
            start = segment.Length;
            _positions.Clear();
            var at = 0;
            foreach (var pending in batch)
            {
                _positions.Add(new WalPosition(segment.Number, start + at));
                WalFormat.WriteFrame(buffer.AsSpan(at), pending.Payload.Span);
                at += WalFormat.FrameBytes(pending.Payload.Length);
            }

            _storage.Write(file, buffer.AsSpan(0, bytes), start);
            var began = Stopwatch.GetTimestamp();
            _storage.Sync(file);
            Interlocked.Increment(ref _syncs);
            _telemetry?.WalCommitted(batch.Count, bytes, Stopwatch.GetElapsedTime(began));
            _ledger.Appended(segment, _positions, start + bytes);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].TrySetResult(_positions[i]);
            }
        }
        catch (Exception ex)
        {
            Undo(start);
            WalLog.CommitFailed(_logger, batch.Count, ex.Message);
            var failure = ex as IOException ?? new IOException($"The write-ahead log could not write: {ex.Message}", ex);
            foreach (var pending in batch)
            {
                pending.TrySetException(failure);
            }
        }
        finally
        {
            // Held until now so the log's bytes and the reservations never both miss this commit.
            Interlocked.Add(ref _reserved, -bytes);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Cuts what a failed commit wrote off the file, and leaves the segment: after a failed fsync Linux may have
    // dropped the dirty pages and reports no error again, so nothing more is trusted to that file.
    private void Undo(long start)
    {
        if (start >= 0 && _file is not null)
        {
            try
            {
                _storage.SetLength(_file, start);
                _storage.Sync(_file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                WalLog.NotRepaired(_logger, _segment!.Path, ex.Message);
            }
        }

        _segment = null;
    }

    /// <summary>The segment a commit of <paramref name="bytes"/> goes to: the current one, or a new one past its size.</summary>
    private (SafeFileHandle File, WalSegment Segment) SegmentFor(int bytes)
    {
        if (_file is not null && _segment is not null
            && (_segment.Length == WalFormat.HeaderBytes || _segment.Length + bytes <= _options.SegmentBytes))
        {
            return (_file, _segment);
        }

        var number = _nextSegment++;
        var path = Path.Combine(_folder, WalFormat.SegmentName(number));
        var spare = _spare?.TryTake(path) == true;
        var ours = spare; // a file this made, removed if it can't be used (never one that was there)
        SafeFileHandle? file = null;
        try
        {
            file = File.OpenHandle(path, spare ? FileMode.Open : FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
            ours = true;
            if (!spare)
            {
                Span<byte> header = stackalloc byte[WalFormat.HeaderBytes];
                WalFormat.WriteHeader(header);
                _storage.Write(file, header, 0);
                _storage.Sync(file);
            }

            _storage.SyncDirectory(_folder);
        }
        catch
        {
            file?.Dispose();
            if (ours)
            {
                WalRepair.Remove(path, _logger);
            }

            throw;
        }
        finally
        {
            _spare?.Prepare(); // the one after this, made while this one fills
        }

        _file?.Dispose();
        (_file, _segment) = (file, new WalSegment(number, path, WalFormat.HeaderBytes, records: 0));
        _ledger.Started(_segment);
        return (_file, _segment);
    }
}
