namespace TrackerService.Durability;

/// <summary>The log's messages.</summary>
internal static partial class WalLog
{
    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "The write-ahead log {Folder:l} holds {Records} unconfirmed records in {Segments} segments ({Bytes} bytes) from checkpoint {Checkpoint}")]
    public static partial void Opened(ILogger logger, string folder, int records, int segments, long bytes, WalPosition checkpoint);

    [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "The write-ahead log segment {Segment:l} ended in a frame cut short at {Offset} (a crash mid-append, never acknowledged); the {Bytes} bytes after it were kept as {Kept:l} and the segment truncated")]
    public static partial void TornTail(ILogger logger, string segment, long offset, long bytes, string kept);

    [LoggerMessage(EventId = 702, Level = LogLevel.Error, Message = "The write-ahead log segment {Segment:l} is damaged at {Offset} ({Damage:l}); the {Records} records before it are delivered, the whole segment was copied to {Kept:l} and nothing from the damage on is delivered")]
    public static partial void Corrupt(ILogger logger, string segment, long offset, string damage, int records, string kept);

    [LoggerMessage(EventId = 703, Level = LogLevel.Error, Message = "The write-ahead log could not set aside or repair {Segment:l} ({Reason}); it is left as it is and looked at again on the next start")]
    public static partial void NotRepaired(ILogger logger, string segment, string reason);

    [LoggerMessage(EventId = 704, Level = LogLevel.Warning, Message = "The write-ahead log's checkpoint {Checkpoint:l} is unreadable; every record still in the log is delivered again (the store skips those it holds)")]
    public static partial void CheckpointUnreadable(ILogger logger, string checkpoint);

    [LoggerMessage(EventId = 705, Level = LogLevel.Warning, Message = "The write-ahead log could not write its checkpoint ({Reason}); it tries again on the next confirmation (a crash now only means redelivery)")]
    public static partial void CheckpointFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 706, Level = LogLevel.Warning, Message = "The write-ahead log could not remove the confirmed segment {Segment:l} ({Reason}); it tries again later")]
    public static partial void NotRemoved(ILogger logger, string segment, string reason);

    [LoggerMessage(EventId = 707, Level = LogLevel.Error, Message = "A write-ahead log commit of {Appends} appends failed ({Reason}); each was refused, nothing of it stays in the log")]
    public static partial void CommitFailed(ILogger logger, int appends, string reason);

    [LoggerMessage(EventId = 708, Level = LogLevel.Warning, Message = "The write-ahead log could not make its next segment ahead of time ({Reason}); segments grow as they are written until it can (commits' syncs cost more, nothing else changes)")]
    public static partial void SpareFailed(ILogger logger, string reason);
}
