using System.Collections.Frozen;
using System.Threading.RateLimiting;

namespace TrackerService.Auth;

/// <summary>
/// A token bucket's settings, and the partition key of its bucket: a key whose limit is the same after a reload keeps
/// its bucket (and what it has used of it); a changed limit starts a new one.
/// </summary>
/// <param name="Source">The key's id, null for keyless (anonymous) requests.</param>
internal sealed record RateLimit(string? Source, int PermitsPerSecond, int Burst)
{
    /// <summary>Tokens come back each second, as many as <see cref="PermitsPerSecond"/>, up to <see cref="Burst"/> held.</summary>
    public RateLimitPartition<RateLimit> Partition() => RateLimitPartition.GetTokenBucketLimiter(this, static limit => new TokenBucketRateLimiterOptions
    {
        TokenLimit = limit.Burst,
        TokensPerPeriod = limit.PermitsPerSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0, // a request over the limit is answered 429 at once, never held
        AutoReplenishment = false, // the partitioned limiter's own timer replenishes every bucket
    });
}

/// <summary>One configured write key (<c>Tracker:WriteKeys:n</c>), as a snapshot holds it.</summary>
/// <param name="source">The key's id, stored with every event it sends; null for the stand-in of keyless requests.</param>
/// <param name="allowedOrigins">The only <c>Origin</c>s the key is taken from (normalised); null when any.</param>
/// <param name="limit">Its bucket, null when unlimited.</param>
internal sealed class WriteKey(string? source, bool enabled, FrozenSet<string>? allowedOrigins, RateLimit? limit)
{
    public string? Source { get; } = source;

    public bool Enabled { get; } = enabled;

    public FrozenSet<string>? AllowedOrigins { get; } = allowedOrigins;

    public RateLimit? Limit { get; } = limit;

    /// <summary>Computed once, so that taking a permit allocates nothing.</summary>
    public RateLimitPartition<RateLimit> Partition { get; } = limit?.Partition() ?? default;

    /// <summary>Whether a request from <paramref name="origin"/> (its <c>Origin</c> header, if any) may use this key.</summary>
    /// <remarks>
    /// A request without <c>Origin</c> is not a browser's cross-origin call (browsers always send one there), so an
    /// origin list does not apply to it: it narrows which web pages may use a key that is public in their source.
    /// </remarks>
    public bool AllowsOrigin(string? origin) =>
        AllowedOrigins is null || string.IsNullOrEmpty(origin) || AllowedOrigins.Contains(Origins.Normalize(origin));
}
