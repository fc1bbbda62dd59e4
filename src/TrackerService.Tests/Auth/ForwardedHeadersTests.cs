using System.Net;
using Microsoft.AspNetCore.Http;
using TrackerService.Auth;

namespace TrackerService.Tests.Auth;

/// <summary>The client's address and scheme behind a proxy: from X-Forwarded-For/-Proto only when the proxy is trusted.</summary>
public sealed class ForwardedHeadersTests
{
    [Theory]
    [InlineData("10.0.0.5", "203.0.113.7 https")] // a configured proxy
    [InlineData("10.1.200.3", "203.0.113.7 https")] // in a configured network
    [InlineData("127.0.0.1", "203.0.113.7 https")] // loopback, trusted by default
    [InlineData("10.0.0.9", "10.0.0.9 http")] // anyone else: their headers are ignored
    public async Task TheClientIsTheForwardedOneOnlyBehindATrustedProxy(string peer, string expected)
    {
        // Given one trusted proxy and one trusted network
        await using var app = await AccessHost.StartAsync(new()
        {
            ["Tracker:Auth:AllowAnonymous"] = "true",
            ["Tracker:Proxy:KnownProxies:0"] = "10.0.0.5",
            ["Tracker:Proxy:KnownNetworks:0"] = "10.1.0.0/16",
        });

        // When a request comes from the peer with forwarded headers
        var context = await app.SendFromAsync(peer, "/client", r =>
        {
            r.Headers["X-Forwarded-For"] = "203.0.113.7";
            r.Headers["X-Forwarded-Proto"] = "https";
        });

        // Then the endpoint sees the client's address only when the peer is trusted
        Assert.Equal(expected, await new StreamReader(context.Response.Body).ReadToEndAsync());
    }

    [Fact]
    public async Task ByDefaultOnlyLoopbackIsTrusted()
    {
        await using var app = await AccessHost.StartAsync(new() { ["Tracker:Auth:AllowAnonymous"] = "true" });
        var context = await app.SendFromAsync("10.0.0.5", "/client", r => r.Headers["X-Forwarded-For"] = "203.0.113.7");
        Assert.Equal(IPAddress.Parse("10.0.0.5"), context.Connection.RemoteIpAddress);
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
    }

    [Theory]
    [InlineData("KnownProxies", "proxy.local", "Tracker:Proxy:KnownProxies:0 = 'proxy.local' is invalid: it must be an IP address")]
    [InlineData("KnownNetworks", "10.0.0.0", "Tracker:Proxy:KnownNetworks:0 = '10.0.0.0' is invalid: it must be a network in CIDR notation")]
    public void NamesABadProxySetting(string list, string value, string expected)
    {
        var options = new ProxyOptions();
        (list == "KnownProxies" ? options.KnownProxies : options.KnownNetworks).Add(value);
        var result = new ProxyOptionsValidator().Validate(null, options);
        Assert.Contains(expected, Assert.Single(result.Failures!), StringComparison.Ordinal);
    }
}
