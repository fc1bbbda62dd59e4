namespace TrackerService.Pipeline;

internal enum EnqueueResult
{
    /// <summary>Every event of the request is queued.</summary>
    Accepted,

    /// <summary>The queue stayed full for the whole enqueue timeout; nothing was queued.</summary>
    Full,

    /// <summary>Intake is closed (the service is shutting down); nothing was queued.</summary>
    Closed,

    /// <summary>The write-ahead log could not write the request (Disk durability: a full disk, an I/O error); nothing was taken.</summary>
    Unavailable,
}
