namespace TrackerService.Lifecycle;

/// <summary>The admin listener (key <c>Tracker:AdminUrl</c>).</summary>
public sealed class AdminOptions
{
    public const string Section = "Tracker";

    /// <summary>
    /// Where the admin listener (health and metrics) listens, apart from the public API so it can stay
    /// private. Port 0 picks a free port. The default value is <c>http://localhost:8081</c>.
    /// </summary>
    public string AdminUrl { get; set; } = "http://localhost:8081";
}
