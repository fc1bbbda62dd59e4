using System.Net;
using Microsoft.AspNetCore.Builder;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Auth;

/// <summary>CORS on the Segment API's group, from the write keys' origins: what a browser's preflight and its POST are told.</summary>
public sealed class CorsTests
{
    private static readonly Dictionary<string, string?> ShopOnly = new()
    {
        ["Tracker:WriteKeys:0:Id"] = "shop",
        ["Tracker:WriteKeys:0:Key"] = "shop-key",
        ["Tracker:WriteKeys:0:AllowedOrigins:0"] = "https://shop.example",
        ["Tracker:WriteKeys:1:Id"] = "blog",
        ["Tracker:WriteKeys:1:Key"] = "blog-key",
        ["Tracker:WriteKeys:1:AllowedOrigins:0"] = "https://blog.example",
    };

    [Fact]
    public async Task APreflightIsAnsweredForAnyOriginWhenAKeyHasNoOrigins()
    {
        // Given a key without origins (the default: any)
        await using var app = await AccessHost.StartAsync(new() { ["Tracker:WriteKeys:0:Id"] = "web", ["Tracker:WriteKeys:0:Key"] = "web-key" });

        // When a browser asks whether it may POST text/plain with an Authorization header
        using var response = await Preflight(app, "https://anywhere.example");

        // Then it may, for 600 s, from any origin
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("POST", Header(response, "Access-Control-Allow-Methods"), StringComparison.Ordinal);
        var headers = Header(response, "Access-Control-Allow-Headers")!.ToLowerInvariant();
        Assert.Contains("content-type", headers, StringComparison.Ordinal);
        Assert.Contains("authorization", headers, StringComparison.Ordinal);
        Assert.Contains("x-retry-count", headers, StringComparison.Ordinal);
        Assert.Equal("600", Header(response, "Access-Control-Max-Age"));
    }

    [Theory]
    [InlineData("https://shop.example", true)]
    [InlineData("https://blog.example", true)]
    [InlineData("https://evil.example", false)]
    public async Task APreflightAllowsTheOriginsOfEveryEnabledKey(string origin, bool allowed)
    {
        // Given two keys, each with its own origin
        await using var app = await AccessHost.StartAsync(ShopOnly);

        // When a page asks
        using var response = await Preflight(app, origin);

        // Then the origin is allowed when some key lists it (the preflight carries no key)
        Assert.Equal(allowed ? origin : null, Header(response, "Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("https://shop.example", HttpStatusCode.OK)]
    [InlineData("https://blog.example", HttpStatusCode.Forbidden)]
    public async Task TheRequestIsHeldToItsOwnKeysOrigins(string origin, HttpStatusCode expected)
    {
        // Given two keys, each with its own origin
        await using var app = await AccessHost.StartAsync(ShopOnly);
        using var client = app.Client();

        // When the shop's key is used from a page of either origin (allowed by the preflight, as the blog's key lists it)
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/batch?writeKey=shop-key") { Content = Bodies.Raw("{}", "text/plain") };
        request.Headers.Add("Origin", origin);
        using var response = await client.SendAsync(request);

        // Then only the shop's page gets in; the other is refused with a 403 problem
        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            Assert.Equal("Origin not allowed", (await Problem.ReadAsync(response)).GetProperty("title").GetString());
        }
        else
        {
            Assert.Equal(origin, Header(response, "Access-Control-Allow-Origin"));
        }
    }

    private static async Task<HttpResponseMessage> Preflight(WebApplication app, string origin)
    {
        using var client = app.Client();
        using var request = new HttpRequestMessage(HttpMethod.Options, "/v1/batch");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type,authorization,x-retry-count"); // x-retry-count: analytics.js's retries
        return await client.SendAsync(request);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}
