using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Auth;

/// <summary>Access to the intake: write keys, their rate limits and origins (CORS), and the proxies believed about the client.</summary>
internal static class AuthExtensions
{
    /// <summary>The CORS policy of the Segment API (<c>/v1/*</c>), served from the write keys (<see cref="AccessSnapshot.Cors"/>).</summary>
    public const string CorsPolicy = "tracker-write-keys";

    public static IServiceCollection AddIntakeAccess(this IServiceCollection services)
    {
        services.AddTrackerOptions<AuthOptions, AuthOptionsValidator>(AuthOptions.Section);
        services.AddTrackerOptions<ProxyOptions, ProxyOptionsValidator>(ProxyOptions.Section);
        services.AddSingleton<IntakeAccess>();
        services.AddCors();
        services.Replace(ServiceDescriptor.Singleton<ICorsPolicyProvider, TrackerCorsPolicyProvider>());
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ProxyOptions>>((forwarded, proxy) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.ForwardLimit = proxy.Value.ForwardLimit;
            foreach (var address in proxy.Value.KnownProxies)
            {
                forwarded.KnownProxies.Add(System.Net.IPAddress.Parse(address));
            }

            foreach (var network in proxy.Value.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        return services;
    }

    /// <summary>
    /// The forwarded headers (first, before anything reads the client's address or scheme), then CORS. With minimal
    /// APIs routing runs before the app's middleware, so CORS sees the endpoint (and its policy) of a preflight.
    /// </summary>
    public static WebApplication UseIntakeAccess(this WebApplication app)
    {
        // Built now, from the keys the start-up checked, and watching for reloads from here on: built at the first
        // request, it would read whatever the file holds by then, and a bad file would fail requests, not the start.
        app.Services.GetRequiredService<IntakeAccess>();
        app.UseForwardedHeaders();
        app.UseCors();
        return app;
    }

    /// <summary>The write keys' CORS policy on a route group (the lead's <c>app.MapGroup("/v1")</c>): preflights answered, origins from the keys.</summary>
    public static TBuilder RequireTrackerCors<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.RequireCors(CorsPolicy);

    /// <summary>An endpoint that takes its key in a header only: <see cref="WriteKeyFilter"/> decides before its handler runs.</summary>
    public static TBuilder RequireWriteKey<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.AddEndpointFilter<TBuilder, WriteKeyFilter>();
}
