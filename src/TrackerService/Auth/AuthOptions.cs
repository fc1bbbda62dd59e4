namespace TrackerService.Auth;

/// <summary>
/// Access to the intake (section <c>Tracker:Auth</c>). The write keys themselves are the list <c>Tracker:WriteKeys</c>
/// (<see cref="AccessSettings"/>), reloaded while running; this section is checked at start with them.
/// </summary>
public sealed class AuthOptions
{
    public const string Section = "Tracker:Auth";

    /// <summary>Subsection of the limit every key without its own gets: <c>PermitsPerSecond</c>, <c>Burst</c>.</summary>
    public const string DefaultRateLimitKey = "DefaultRateLimit";

    /// <summary>
    /// Whether a request without a write key is taken, with no source (a request with an unknown key is still
    /// refused). Without it, every request needs a key, and in Production at least one key must be configured.
    /// The default value is false.
    /// </summary>
    public bool AllowAnonymous { get; set; }
}
