namespace TrackerService.Pipeline;

/// <summary>How a drain ended.</summary>
/// <param name="Spilled">Events written to the spill because the deadline came first (or a consumer failed).</param>
/// <param name="DeadlineReached">The deadline cut the drain short.</param>
internal sealed record DrainResult(int Spilled, bool DeadlineReached);
