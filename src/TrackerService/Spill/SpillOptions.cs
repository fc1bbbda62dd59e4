namespace TrackerService.Spill;

/// <summary>The local spill for events that could not be delivered in time (section <c>Tracker:Spill</c>).</summary>
public sealed class SpillOptions
{
    public const string Section = "Tracker:Spill";

    /// <summary>
    /// Folder of the spill's segment files, relative to the working directory. Each replica needs its own.
    /// The default value is <c>data/spill</c>.
    /// </summary>
    public string Directory { get; set; } = "data/spill";
}
