using TrackerService.Events;

namespace TrackerService.Spill;

/// <summary>
/// The intake's rules for one event, which replay checks every spilled line against: a line may have been written
/// by an older version, or by hand, and must not reach the store unchecked. The composition root supplies the API's
/// own rules, so they are written once (the spill does not use the API's namespace).
/// </summary>
internal interface IEventContract
{
    /// <returns>Null when <paramref name="e"/> keeps the contract; otherwise the field at fault and why.</returns>
    EventFault? Check(TrackedEvent e);
}

/// <summary>Why an event breaks the contract.</summary>
internal sealed record EventFault(string Field, string Reason);
