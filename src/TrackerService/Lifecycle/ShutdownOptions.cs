namespace TrackerService.Lifecycle;

/// <summary>The graceful shutdown (section <c>Tracker:Shutdown</c>).</summary>
public sealed class ShutdownOptions
{
    public const string Section = "Tracker:Shutdown";

    /// <summary>
    /// How long requests are still taken after readiness turns 503, so load balancers notice first.
    /// The default value is zero; under Kubernetes about 5 seconds.
    /// </summary>
    public TimeSpan DrainDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// The whole shutdown's budget, from the stop signal: drain delay, in-flight requests and the drain to the
    /// store. What is not stored by then is spilled to disk. Keep it under the orchestrator's grace period.
    /// The default value is 25 seconds (Kubernetes' grace period is 30).
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(25);
}
