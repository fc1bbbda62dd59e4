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

    /// <summary>
    /// The share of the budget the requests in flight at the stop get to finish (after the drain delay); then the web
    /// server aborts those still running. An aborted request got no 202, so its client retries it elsewhere: nothing
    /// accepted is lost, and one slow client (a body trickling in) can't hold the whole shutdown. Less than
    /// <see cref="Timeout"/>. The default value is unset, which means a fifth of <see cref="Timeout"/> (5 seconds of
    /// the default 25): a request within the API's limits is read and queued in well under a second, so only a
    /// stalled one is cut, and the drain keeps most of the budget; a fraction, so a short budget keeps its share.
    /// </summary>
    public TimeSpan? RequestsTimeout { get; set; }

    /// <summary>The requests' share in effect: <see cref="RequestsTimeout"/>, or a fifth of <see cref="Timeout"/> when it is unset.</summary>
    public TimeSpan RequestsShare => RequestsTimeout ?? Timeout / 5;
}
