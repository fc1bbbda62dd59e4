using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using TrackerService.Auth;
using TrackerService.Telemetry;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Auth;

/// <summary><see cref="IntakeAccess.Decide"/> as the Segment endpoints call it: a key in the header or the body, origins, reloads.</summary>
public sealed class IntakeAccessTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().AddSingleton<TrackerTelemetry>().BuildServiceProvider();
    private readonly MemoryConfigurationProvider _settings = new(new MemoryConfigurationSource
    {
        InitialData = new Dictionary<string, string?>
        {
            ["Tracker:WriteKeys:0:Id"] = "web",
            ["Tracker:WriteKeys:0:Key"] = "web-key",
            ["Tracker:WriteKeys:0:AllowedOrigins:0"] = "https://shop.example",
            ["Tracker:WriteKeys:1:Id"] = "server",
            ["Tracker:WriteKeys:1:Key"] = "server-key",
        },
    });

    private readonly ConfigurationRoot _configuration;
    private readonly IntakeAccess _access;

    public IntakeAccessTests()
    {
        _configuration = new ConfigurationRoot([_settings]);
        _access = new IntakeAccess(_configuration, new Environment(), _services.GetRequiredService<TrackerTelemetry>(), NullLogger<IntakeAccess>.Instance);
    }

    public void Dispose()
    {
        _access.Dispose();
        _services.Dispose();
    }

    [Fact]
    public void TakesTheBodysKeyWhenTheHeaderHasNone()
    {
        var decision = _access.Decide(Request(), bodyWriteKey: "server-key", events: 3);
        Assert.Equal(new AccessDecision(true, "server", null), decision);
        Assert.False(_access.HasHeaderKey(Request().Request));
    }

    [Fact]
    public void PrefersTheHeadersKeyToTheBodys()
    {
        var context = Request(authorization: WriteKeys.Basic("server-key").ToString());
        Assert.True(_access.HasHeaderKey(context.Request));
        Assert.Equal("server", _access.Decide(context, bodyWriteKey: "web-key").Source);
        Assert.Equal(StatusCodes.Status401Unauthorized, Status(_access.Decide(Request(authorization: "Bearer nope"), bodyWriteKey: "server-key")));
    }

    [Fact]
    public void RefusesAnEmptyBodyKeyAsMissing()
    {
        var decision = _access.Decide(Request(), bodyWriteKey: "");
        Assert.False(decision.Allowed);
        Assert.Equal("Missing write key", decision.Refusal!.ProblemDetails.Title);
    }

    [Theory]
    [InlineData("https://shop.example", HttpStatusCode.OK)]
    [InlineData("https://SHOP.example", HttpStatusCode.OK)]
    [InlineData(null, HttpStatusCode.OK)] // not a browser's cross-origin call
    [InlineData("https://evil.example", HttpStatusCode.Forbidden)]
    public void HoldsAKeyToItsOrigins(string? origin, HttpStatusCode expected)
    {
        var decision = _access.Decide(Request(origin: origin), bodyWriteKey: "web-key");
        Assert.Equal((int)expected, decision.Allowed ? 200 : Status(decision));

        // A key without origins takes any
        Assert.True(_access.Decide(Request(origin: "https://evil.example"), bodyWriteKey: "server-key").Allowed);
    }

    [Fact]
    public async Task AReloadSwapsTheKeysAndABadOneKeepsTheLastGood()
    {
        // When the configuration reloads with the server key removed and a new one added
        _settings.Set("Tracker:WriteKeys:1:Key", "new-server-key");
        _configuration.Reload();

        // Then the old key is refused and the new one taken
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(_access.Decide(Request(), "new-server-key").Allowed), Patience.Default));
        Assert.False(_access.Decide(Request(), "server-key").Allowed);

        // When it reloads with a bad key (two entries with one id)
        _settings.Set("Tracker:WriteKeys:1:Id", "web");
        _configuration.Reload();

        // Then the last good keys stay in force, and nothing threw on the reload's thread
        Assert.Equal("server", _access.Decide(Request(), "new-server-key").Source);
    }

    private static int Status(AccessDecision decision) => decision.Refusal!.StatusCode;

    private static DefaultHttpContext Request(string? authorization = null, string? origin = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }

        if (origin is not null)
        {
            context.Request.Headers.Origin = origin;
        }

        return context;
    }

    private sealed class Environment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = Environments.Production;

        public string ApplicationName { get; set; } = "TrackerService";

        public string ContentRootPath { get; set; } = "";

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
