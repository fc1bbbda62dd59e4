namespace TrackerService.Durability;

/// <summary>
/// What the log holds, shared by the writer and <see cref="WriteAheadLog.Confirm"/>: the live segments, their bytes,
/// the unconfirmed positions in order and those confirmed ahead of the first unconfirmed one. The checkpoint is the
/// first unconfirmed position (or, with none, where the next record goes).
/// </summary>
internal sealed class WalLedger
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, WalSegment> _segments = [];
    private readonly Queue<WalPosition> _unconfirmed = new();
    private readonly HashSet<WalPosition> _early = [];
    private readonly List<WalSegment> _done = [];
    private WalSegment? _current;
    private WalPosition _end;
    private long _bytes;

    public WalLedger(WalRecoveryResult recovered)
    {
        foreach (var segment in recovered.Segments)
        {
            _segments.Add(segment.Number, segment);
            _bytes += segment.Length;
        }

        foreach (var record in recovered.Records)
        {
            _unconfirmed.Enqueue(record.Position);
        }

        _end = new WalPosition(recovered.NextSegment, 0);
    }

    /// <summary>Bytes of the segments not yet deleted.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public int Segments
    {
        get
        {
            lock (_lock)
            {
                return _segments.Count + _done.Count;
            }
        }
    }

    /// <summary>Records appended and not yet confirmed.</summary>
    public int Unconfirmed
    {
        get
        {
            lock (_lock)
            {
                return _unconfirmed.Count - _early.Count;
            }
        }
    }

    public WalPosition Checkpoint
    {
        get
        {
            lock (_lock)
            {
                return _unconfirmed.TryPeek(out var first) ? first : _end;
            }
        }
    }

    /// <summary>The writer made <paramref name="segment"/> the one it appends to; the one before it is closed.</summary>
    public void Started(WalSegment segment)
    {
        lock (_lock)
        {
            var previous = _current;
            _segments.Add(segment.Number, segment);
            _current = segment;
            Interlocked.Add(ref _bytes, segment.Length);
            _end = new WalPosition(segment.Number, segment.Length);
            if (previous is not null && previous.Confirmed >= previous.Records)
            {
                Done(previous);
            }
        }
    }

    /// <summary>A commit made these records of <paramref name="segment"/> durable; it is now <paramref name="length"/> long.</summary>
    public void Appended(WalSegment segment, List<WalPosition> positions, long length)
    {
        lock (_lock)
        {
            foreach (var position in positions)
            {
                _unconfirmed.Enqueue(position);
            }

            segment.Records += positions.Count;
            Interlocked.Add(ref _bytes, length - segment.Length);
            segment.Length = length;
            _end = new WalPosition(segment.Number, length);
        }
    }

    /// <returns>True when the checkpoint moved or a segment is done with: time to write or delete.</returns>
    public bool Confirm(WalPosition position)
    {
        lock (_lock)
        {
            if (!_unconfirmed.TryPeek(out var first) || position < first || position >= _end
                || !_segments.TryGetValue(position.Segment, out var segment))
            {
                return false;
            }

            var moved = position == first;
            if (moved)
            {
                _unconfirmed.Dequeue();
                while (_unconfirmed.TryPeek(out var next) && _early.Remove(next))
                {
                    _unconfirmed.Dequeue();
                }
            }
            else if (!_early.Add(position))
            {
                return false;
            }

            segment.Confirmed++;
            var done = segment != _current && segment.Confirmed >= segment.Records;
            if (done)
            {
                Done(segment);
            }

            return moved || done;
        }
    }

    /// <summary>The segments every record of which is confirmed, to delete.</summary>
    public WalSegment[] TakeDone()
    {
        lock (_lock)
        {
            return [.. _done];
        }
    }

    /// <summary>The segment's file is deleted.</summary>
    public void Removed(WalSegment segment)
    {
        lock (_lock)
        {
            if (_done.Remove(segment))
            {
                Interlocked.Add(ref _bytes, -segment.Length);
            }
        }
    }

    private void Done(WalSegment segment)
    {
        _segments.Remove(segment.Number);
        _done.Add(segment);
    }
}
