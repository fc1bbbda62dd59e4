namespace TrackerService.Pipeline;

/// <summary>
/// Counts a request's events down as batches store (or spill) them, and says once when the last one is: what lets
/// the write-ahead log (<c>Tracker:Durability=Disk</c>) confirm the request's record, however its events were split
/// across batches and consumers.
/// </summary>
/// <param name="events">How many events the request holds.</param>
/// <param name="delivered">Called once, when all of them are delivered, on the thread that delivered the last.</param>
internal sealed class DeliveryReceipt(int events, Action delivered)
{
    private int _left = events;

    /// <summary>Whether every event was delivered.</summary>
    public bool IsDelivered => Volatile.Read(ref _left) <= 0;

    /// <summary>Counts <paramref name="count"/> of the request's events as delivered.</summary>
    public void Delivered(int count)
    {
        if (count > 0 && Interlocked.Add(ref _left, -count) == 0)
        {
            delivered();
        }
    }
}
