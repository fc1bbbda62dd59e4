using TrackerService.Events;

namespace TrackerService.Pipeline;

/// <summary>
/// One consumer's view of the queue: fills a batch until it holds <c>batchSize</c> events or
/// <c>flushInterval</c> has passed since its first event, whichever comes first. A request's events
/// that do not fit in the batch stay here, in order, for the next one.
/// </summary>
internal sealed class EventBatcher(EventQueue queue, int batchSize, TimeSpan flushInterval, TimeProvider time)
{
    private static readonly QueuedRequest Nothing = new([], default);

    private QueuedRequest _pending = Nothing;
    private int _pendingOffset;

    /// <summary>Events taken off the queue that are not in a batch yet.</summary>
    public ReadOnlySpan<TrackedEvent> Pending => _pending.Events.AsSpan(_pendingOffset);

    /// <summary>
    /// Gives the batch's room back to the queue and tells its requests' receipts: its events are stored or spilled,
    /// and no longer held here.
    /// </summary>
    public void Release(DeliveryBatch batch)
    {
        queue.Release(batch.Count, batch.Bytes);
        batch.Delivered();
    }

    /// <summary>Fills <paramref name="batch"/> (which must be empty), noting the request each part came from.</summary>
    /// <returns>False once the queue is completed and drained and nothing is pending: this consumer is done.</returns>
    public async ValueTask<bool> FillAsync(DeliveryBatch batch, CancellationToken cancellationToken)
    {
        TakeAvailable(batch);
        while (batch.Count == 0)
        {
            if (!await queue.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return false;
            }

            TakeAvailable(batch);
        }

        if (batch.Count >= batchSize)
        {
            return true;
        }

        using var flush = new CancellationTokenSource(flushInterval, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(flush.Token, cancellationToken);
        while (batch.Count < batchSize)
        {
            try
            {
                if (!await queue.WaitToReadAsync(linked.Token).ConfigureAwait(false))
                {
                    break; // intake is closed and the queue is empty: write what there is now
                }
            }
            catch (OperationCanceledException) when (flush.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                break; // the flush interval is up
            }

            TakeAvailable(batch);
        }

        return true;
    }

    private void TakeAvailable(DeliveryBatch batch)
    {
        while (batch.Count < batchSize)
        {
            var pending = _pending.Events;
            if (_pendingOffset == pending.Length)
            {
                if (!queue.TryRead(out QueuedRequest next))
                {
                    _pending = Nothing;
                    _pendingOffset = 0;
                    return;
                }

                _pending = next;
                _pendingOffset = 0;
                pending = next.Events;
            }

            // The request's remainder from the last batch counts as one of this batch's origins too.
            var take = Math.Min(batchSize - batch.Count, pending.Length - _pendingOffset);
            batch.AddOrigin(_pending.Origin);
            batch.AddReceipt(_pending.Receipt, take);
            batch.Add(pending.AsSpan(_pendingOffset, take));
            _pendingOffset += take;
        }
    }
}
