using System.Collections.Frozen;
using Microsoft.AspNetCore.Cors.Infrastructure;

namespace TrackerService.Auth;

/// <summary>
/// Everything a request's access is decided by, immutable: built from the configuration at start and on every
/// reload, then swapped in whole, so a request reads one consistent set with no lock.
/// </summary>
internal sealed class AccessSnapshot
{
    /// <summary>
    /// What the browsers' preflight is told may be sent: analytics.js posts text/plain with Authorization, and its
    /// retries add X-Retry-Count. A header left out here fails the retry's preflight, so the event is never sent.
    /// </summary>
    private static readonly string[] CorsHeaders = ["Content-Type", "Authorization", "Content-Encoding", "X-Retry-Count"];

    private static readonly TimeSpan CorsMaxAge = TimeSpan.FromSeconds(600);

    /// <param name="defaultLimit">The limit of keyless requests (one bucket for them all); its source is null.</param>
    public AccessSnapshot(IReadOnlyDictionary<KeyHash, WriteKey> keys, bool allowAnonymous, RateLimit? defaultLimit)
    {
        Keys = keys.ToFrozenDictionary();
        AllowAnonymous = allowAnonymous;
        Anonymous = new WriteKey(null, allowAnonymous, null, defaultLimit);
        Cors = Task.FromResult<CorsPolicy?>(BuildCors(Keys.Values, allowAnonymous));
    }

    public FrozenDictionary<KeyHash, WriteKey> Keys { get; }

    /// <summary>Whether a request without a key is taken (as <see cref="Anonymous"/>: no source, the default limit).</summary>
    public bool AllowAnonymous { get; }

    public WriteKey Anonymous { get; }

    /// <summary>
    /// The CORS policy of <c>/v1/*</c>, as a finished task so that serving it allocates nothing. A preflight carries
    /// no key, so it allows the origins of every enabled key together: any origin when one of them (or keyless
    /// access) has no list. The actual request is then held to its own key's list (<see cref="WriteKey.AllowsOrigin"/>).
    /// </summary>
    public Task<CorsPolicy?> Cors { get; }

    private static CorsPolicy BuildCors(IEnumerable<WriteKey> keys, bool allowAnonymous)
    {
        var policy = new CorsPolicyBuilder()
            .WithMethods(HttpMethods.Post)
            .WithHeaders(CorsHeaders)
            .WithExposedHeaders("Retry-After")
            .SetPreflightMaxAge(CorsMaxAge);
        var enabled = keys.Where(k => k.Enabled).ToList();
        if (allowAnonymous || enabled.Any(k => k.AllowedOrigins is null))
        {
            return policy.AllowAnyOrigin().Build();
        }

        var origins = enabled.SelectMany(k => k.AllowedOrigins!).ToFrozenSet(Origins.Comparer);
        return policy.SetIsOriginAllowed(origin => origins.Contains(Origins.Normalize(origin))).Build();
    }
}
