using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Primitives;
using TrackerService.Telemetry;

namespace TrackerService.Auth;

/// <summary>What the endpoint learns about a request's access: allowed (with its source id, null when anonymous) or
/// refused with a ready problem (401/403/429, <c>Retry-After</c> set, telemetry counted, <see cref="RequestRefusal"/> set).</summary>
/// <remarks><see cref="Refusal"/> is a <see cref="ProblemHttpResult"/> (an <see cref="IResult"/>), so a handler returning a
/// typed <c>Results&lt;…, ProblemHttpResult&gt;</c> can return it as it is.</remarks>
internal readonly record struct AccessDecision(bool Allowed, string? Source, ProblemHttpResult? Refusal);

/// <summary>
/// Decides who a request is and whether it may send events: its write key, the key's origins, the key's rate limit.
/// The keys are an immutable <see cref="AccessSnapshot"/>, rebuilt when the configuration reloads and swapped in
/// whole; a request reads the current one without a lock. A reload with a bad key keeps the last good snapshot.
/// </summary>
internal sealed partial class IntakeAccess : IDisposable
{
    private static readonly object CurrentKey = new();

    private readonly IConfiguration _configuration;
    private readonly bool _production;
    private readonly AccessRefusals _refusals;
    private readonly ILogger<IntakeAccess> _logger;
    private readonly IDisposable _reloads;

    // Every key's token bucket, one partition per (key, limit). The framework's rate limiting middleware can't be
    // used: it decides before the endpoint runs, and a key sent as the body's writeKey is only known once the body
    // is read. So the endpoint takes the permit, through this, once it knows the key.
    private readonly PartitionedRateLimiter<WriteKey> _limiter = PartitionedRateLimiter.Create<WriteKey, RateLimit>(static key => key.Partition);

    private AccessSnapshot _snapshot;

    public IntakeAccess(IConfiguration configuration, IHostEnvironment environment, TrackerTelemetry telemetry, ILogger<IntakeAccess> logger)
    {
        _configuration = configuration;
        _production = environment.IsProduction();
        _refusals = new AccessRefusals(telemetry);
        _logger = logger;
        var (snapshot, result) = AccessSettings.Read(configuration, _production);
        _snapshot = snapshot ?? throw new Microsoft.Extensions.Options.OptionsValidationException(AuthOptions.Section, typeof(AuthOptions), result.Failures);
        _reloads = ChangeToken.OnChange(configuration.GetReloadToken, Reload);
    }

    /// <summary>The keys in force now.</summary>
    public AccessSnapshot Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>The decision <see cref="WriteKeyFilter"/> made for this request, if it ran.</summary>
    public static AccessDecision? Current(HttpContext context) =>
        context.Items.TryGetValue(CurrentKey, out var decision) ? (AccessDecision?)decision : null;

    internal static void SetCurrent(HttpContext context, AccessDecision decision) => context.Items[CurrentKey] = decision;

    /// <summary>Whether the request carries credentials in its headers (Basic or Bearer).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Called on the service the endpoint is given, beside Decide.")]
    public bool HasHeaderKey(HttpRequest request) => Credentials.HasKey(request.Headers.Authorization);

    /// <summary>
    /// Authenticates (the header's key first, else <paramref name="bodyWriteKey"/>), checks the key's origins against
    /// the <c>Origin</c> header, then takes one permit from the key's bucket. Call once per request.
    /// </summary>
    /// <param name="events">Events in the request, for the refusal counter.</param>
    public AccessDecision Decide(HttpContext context, string? bodyWriteKey, int events = 1)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        var request = context.Request;
        var status = Credentials.Read(request.Headers.Authorization, out var hash);
        if (status is CredentialStatus.None or CredentialStatus.OtherScheme && !string.IsNullOrEmpty(bodyWriteKey))
        {
            hash = KeyHash.Of(bodyWriteKey.AsSpan());
            status = CredentialStatus.Found;
        }

        WriteKey? key = null;
        switch (status)
        {
            case CredentialStatus.Found:
                if (!snapshot.Keys.TryGetValue(hash, out key))
                {
                    return _refusals.Unauthorized(context, events, "Unknown write key", "The write key is not one this service knows.");
                }

                if (!key.Enabled)
                {
                    return _refusals.Unauthorized(context, events, "Disabled write key", "The write key is disabled.");
                }

                break;
            case CredentialStatus.None when snapshot.AllowAnonymous:
                key = snapshot.Anonymous;
                break;
            case CredentialStatus.None:
                return _refusals.Unauthorized(context, events, "Missing write key",
                    "Send the write key as the HTTP Basic user name (Authorization: Basic base64(key + \":\")), as Authorization: Bearer <key>, or as writeKey in the body.");
            default:
                return _refusals.Unauthorized(context, events, "Invalid credentials",
                    "The Authorization header is not a Basic or Bearer credential holding a write key.");
        }

        if (!key.AllowsOrigin(request.Headers.Origin))
        {
            return _refusals.OriginForbidden(context, events);
        }

        if (key.Limit is not null)
        {
            using var lease = _limiter.AttemptAcquire(key);
            if (!lease.IsAcquired)
            {
                return _refusals.RateLimited(context, events, lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.Zero);
            }
        }

        return new AccessDecision(true, key.Source, null);
    }

    public void Dispose()
    {
        _reloads.Dispose();
        _limiter.Dispose();
    }

    private void Reload()
    {
        try
        {
            var (snapshot, result) = AccessSettings.Read(_configuration, _production);
            if (snapshot is null)
            {
                LogReloadRefused(_logger, string.Join(" ", result.Failures ?? []));
                return;
            }

            Interlocked.Exchange(ref _snapshot, snapshot);
            LogReloaded(_logger, snapshot.Keys.Count);
        }
        catch (Exception ex)
        {
            // Runs on the configuration's file watcher: nothing may escape, and the last good keys stay.
            LogReloadFailed(_logger, ex);
        }
    }

    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Write keys reloaded: {Keys} keys")]
    private static partial void LogReloaded(ILogger logger, int keys);

    [LoggerMessage(EventId = 601, Level = LogLevel.Error, Message = "The reloaded write keys are invalid, so the previous ones stay in force: {Failures:l}")]
    private static partial void LogReloadRefused(ILogger logger, string failures);

    [LoggerMessage(EventId = 602, Level = LogLevel.Error, Message = "The write keys could not be reloaded; the previous ones stay in force")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception);
}
