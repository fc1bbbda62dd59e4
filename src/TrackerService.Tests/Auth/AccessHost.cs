using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TrackerService.Auth;
using TrackerService.Telemetry;

namespace TrackerService.Tests.Auth;

/// <summary>
/// A small app (in memory) with the service's access middleware and a stand-in of the Segment API's group, mapped as
/// the service maps it: <c>UseIntakeAccess</c>, then <c>MapGroup("/v1").RequireTrackerCors()</c>. Its
/// <c>POST /v1/batch</c> decides with the key of the header or of the query's <c>writeKey</c> (standing in for the
/// body's); <c>GET /client</c> says the client's address and scheme as the endpoints see them.
/// </summary>
internal static class AccessHost
{
    public static async Task<WebApplication> StartAsync(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddMetrics().AddSingleton<TrackerTelemetry>().AddProblemDetails();
        builder.Services.AddIntakeAccess();
        var app = builder.Build();
        app.UseIntakeAccess();
        var v1 = app.MapGroup("/v1").RequireTrackerCors();
        v1.MapPost("/batch", (HttpContext context, IntakeAccess access) =>
        {
            var decision = access.Decide(context, context.Request.Query["writeKey"]);
            return decision.Allowed ? Results.Ok(new { success = true, source = decision.Source }) : decision.Refusal!;
        });
        app.MapGet("/client", (HttpContext context) => $"{context.Connection.RemoteIpAddress} {context.Request.Scheme}");
        await app.StartAsync();
        return app;
    }

    public static HttpClient Client(this WebApplication app) => app.GetTestServer().CreateClient();

    /// <summary>A request as if it came from <paramref name="address"/> (TestServer has no socket of its own).</summary>
    public static Task<HttpContext> SendFromAsync(this WebApplication app, string address, string path, Action<HttpRequest> request) =>
        app.GetTestServer().SendAsync(context =>
        {
            context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(address);
            context.Request.Method = HttpMethods.Get;
            context.Request.Path = path;
            request(context.Request);
        });
}
