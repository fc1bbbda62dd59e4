namespace TrackerService.Auth;

/// <summary>Placeholder until write keys land: every request is allowed, anonymously.</summary>
internal readonly record struct AccessDecision(bool Allowed, string? Source, IResult? Refusal);

[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "stub")]
internal sealed class IntakeAccess
{
    public bool HasHeaderKey(HttpRequest request) => request.Headers.Authorization.Count > 0;

    public AccessDecision Decide(HttpContext context, string? bodyWriteKey, int events = 1) => new(true, null, null);
}
