using TrackerService.Events;

namespace TrackerService.Sinks;

/// <summary>A store of events. Writes are idempotent on <see cref="TrackedEvent.MessageId"/>.</summary>
internal interface IEventSink
{
    /// <summary>The store's name on batch spans (<c>tracker.sink</c>): <c>sqlite</c>, <c>postgresql</c>.</summary>
    string Name { get; }

    /// <summary>Creates the store's schema when it is missing. Called once, before any write.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Stores a batch in one transaction; events whose messageId is already stored are skipped.</summary>
    /// <returns>The number of events newly stored.</returns>
    Task<int> WriteAsync(IReadOnlyList<TrackedEvent> batch, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps events that will never be stored as events in the dead-letter table (<see cref="DeadLetter.Table"/>), in one
    /// transaction; one whose messageId was already rejected is skipped.
    /// </summary>
    /// <returns>The number newly kept.</returns>
    Task<int> RejectAsync(IReadOnlyList<RejectedEvent> rejected, CancellationToken cancellationToken);

    /// <summary>Whether a failed write may succeed if tried again (a busy or unreachable store), as opposed to a broken one.</summary>
    bool IsTransient(Exception exception);

    /// <summary>
    /// Whether a failed write was refused for its data: some event of the batch can never be stored as it is (a
    /// number or a string the store's types can't hold, a constraint it breaks), while the store itself is fine.
    /// The writer then splits the batch to find those events and keeps them in the dead-letter table. Neither an
    /// outage (<see cref="IsTransient"/>) nor a broken store (a missing table, no permission), which stay as they were.
    /// </summary>
    bool IsRefused(Exception exception);
}
