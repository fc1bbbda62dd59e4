namespace TrackerService.Pipeline;

/// <summary>What is left to deliver at a moment: how many events, and what they take in memory (<see cref="Events.TrackedEvent.MemoryBytes"/>).</summary>
internal readonly record struct PendingEvents(int Count, long Bytes);
