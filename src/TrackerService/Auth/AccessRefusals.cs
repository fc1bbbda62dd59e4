using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using TrackerService.Telemetry;

namespace TrackerService.Auth;

/// <summary>The answers of a refused request (401, 403, 429): counted by reason, described for its log line, never echoing a key.</summary>
internal sealed class AccessRefusals(TrackerTelemetry telemetry)
{
    /// <summary>Sent with every 401 (RFC 9110): the key goes in as a Basic user name.</summary>
    private const string Challenge = "Basic realm=\"tracker\", charset=\"UTF-8\"";

    public AccessDecision Unauthorized(HttpContext context, int events, string title, string detail)
    {
        context.Response.Headers.WWWAuthenticate = Challenge;
        return Refuse(context, events, TrackerTelemetry.ReasonUnauthorized, StatusCodes.Status401Unauthorized, title, detail);
    }

    public AccessDecision OriginForbidden(HttpContext context, int events) =>
        Refuse(context, events, TrackerTelemetry.ReasonOriginForbidden, StatusCodes.Status403Forbidden, "Origin not allowed",
            "This write key does not take requests from this page's origin (its AllowedOrigins).");

    /// <param name="wait">When the bucket has a token again, as the limiter says; the header says at least 1 s.</param>
    public AccessDecision RateLimited(HttpContext context, int events, TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return Refuse(context, events, TrackerTelemetry.ReasonRateLimited, StatusCodes.Status429TooManyRequests, "Rate limit exceeded",
            $"This write key's rate limit is used up; retry in {seconds} s. Nothing from this request was accepted.");
    }

    private AccessDecision Refuse(HttpContext context, int events, string reason, int status, string title, string detail)
    {
        telemetry.Rejected(events, reason);
        RequestRefusal.Set(context, title, detail);
        return new AccessDecision(false, null, TypedResults.Problem(detail, statusCode: status, title: title));
    }
}
