namespace TrackerService.Pipeline;

/// <summary>How a drain ended.</summary>
/// <param name="Spilled">Events written to the spill because the deadline came first (or a consumer failed).</param>
/// <param name="DeadlineReached">The deadline cut the drain short.</param>
/// <param name="Lost">Events left at the end that the spill could not write by the deadline (a full or failing disk).</param>
internal sealed record DrainResult(int Spilled, bool DeadlineReached, int Lost = 0);
