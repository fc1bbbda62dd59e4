using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;

namespace TrackerService.Auth;

/// <summary>
/// Serves <see cref="AuthExtensions.CorsPolicy"/> from the current write keys (<see cref="AccessSnapshot.Cors"/>), so
/// a reload changes the allowed origins at once; any other policy name goes to the framework's provider.
/// </summary>
internal sealed class TrackerCorsPolicyProvider(IntakeAccess access, IOptions<CorsOptions> options) : ICorsPolicyProvider
{
    private readonly DefaultCorsPolicyProvider _others = new(options);

    public Task<CorsPolicy?> GetPolicyAsync(HttpContext context, string? policyName) =>
        policyName == AuthExtensions.CorsPolicy ? access.Snapshot.Cors : _others.GetPolicyAsync(context, policyName);
}
