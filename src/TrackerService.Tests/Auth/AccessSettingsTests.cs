using Microsoft.Extensions.Configuration;
using TrackerService.Auth;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Auth;

/// <summary>How <c>Tracker:WriteKeys</c> and <c>Tracker:Auth</c> are read, and every way they can be wrong.</summary>
public sealed class AccessSettingsTests
{
    [Fact]
    public void ReadsKeysByTheirHashWithTheirLimitsAndOrigins()
    {
        // Given a plain key with its own limit and origins, and a key by hash that gets the default limit
        var (snapshot, result) = Read(new()
        {
            ["Tracker:Auth:DefaultRateLimit:PermitsPerSecond"] = "100",
            ["Tracker:WriteKeys:0:Id"] = "web",
            ["Tracker:WriteKeys:0:Key"] = "web-key",
            ["Tracker:WriteKeys:0:RateLimit:PermitsPerSecond"] = "5",
            ["Tracker:WriteKeys:0:RateLimit:Burst"] = "7",
            ["Tracker:WriteKeys:0:AllowedOrigins:0"] = "https://www.Example.com/",
            ["Tracker:WriteKeys:1:Id"] = "server",
            ["Tracker:WriteKeys:1:KeySha256"] = WriteKeys.Sha256("server-key"),
        });

        // Then both are there, looked up by the hash of the key
        Assert.True(result.Succeeded, result.FailureMessage);
        var web = snapshot!.Keys[KeyHash.Of("web-key".AsSpan())];
        Assert.Equal("web", web.Source);
        Assert.Equal(new RateLimit("web", 5, 7), web.Limit);
        Assert.True(web.AllowsOrigin("https://www.example.com"));
        Assert.False(web.AllowsOrigin("https://evil.example"));
        var server = snapshot.Keys[KeyHash.Of("server-key".AsSpan())];
        Assert.Equal(new RateLimit("server", 100, 200), server.Limit); // the default, burst twice the rate
        Assert.True(server.AllowsOrigin("https://anywhere.example"));
    }

    [Theory]
    [InlineData("Tracker:WriteKeys:1:Id", "web", "Tracker:WriteKeys:1:Id = 'web' is invalid: it must be unique")]
    [InlineData("Tracker:WriteKeys:1:Key", "web-key", "Tracker:WriteKeys:1 = 'other' is invalid: it has the same key as another write key.")]
    [InlineData("Tracker:WriteKeys:1:KeySha256", "abc", "Tracker:WriteKeys:1 = 'other' is invalid: it must have either Key or KeySha256")]
    [InlineData("Tracker:WriteKeys:0:Enabled", "yes", "Tracker:WriteKeys:0:Enabled = 'yes' is invalid: it must be true or false.")]
    [InlineData("Tracker:WriteKeys:0:RateLimit:PermitsPerSecond", "-1", "Tracker:WriteKeys:0:RateLimit:PermitsPerSecond = '-1' is invalid")]
    [InlineData("Tracker:WriteKeys:0:RateLimit:Burst", "1", "Tracker:WriteKeys:0:RateLimit:PermitsPerSecond = '' is invalid: it must be set")]
    [InlineData("Tracker:WriteKeys:0:AllowedOrigins:0", "https://example.com/path", "Tracker:WriteKeys:0:AllowedOrigins = 'https://example.com/path' is invalid")]
    [InlineData("Tracker:Auth:DefaultRateLimit:PermitsPerSecond", "many", "Tracker:Auth:DefaultRateLimit:PermitsPerSecond = 'many' is invalid")]
    [InlineData("Tracker:Auth:AllowAnonymous", "maybe", "Tracker:Auth:AllowAnonymous = 'maybe' is invalid: it must be true or false.")]
    public void NamesTheBadSettingWithoutTheSecret(string key, string value, string expected)
    {
        // Given two good keys and one bad setting
        var settings = new Dictionary<string, string?>
        {
            ["Tracker:WriteKeys:0:Id"] = "web",
            ["Tracker:WriteKeys:0:Key"] = "web-key",
            ["Tracker:WriteKeys:1:Id"] = "other",
            ["Tracker:WriteKeys:1:Key"] = "other-key",
            [key] = value,
        };
        if (key.EndsWith("KeySha256", StringComparison.Ordinal))
        {
            settings["Tracker:WriteKeys:1:Key"] = "other-key"; // both Key and KeySha256
        }

        // When
        var (snapshot, result) = Read(settings);

        // Then
        Assert.Null(snapshot);
        var failure = Assert.Single(result.Failures!);
        Assert.Contains(expected, failure, StringComparison.Ordinal);
        Assert.DoesNotContain("other-key", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "abc", "must have either Key or KeySha256 (the hex SHA-256 of the key), and has neither")]
    [InlineData("zz", null, "Tracker:WriteKeys:0:KeySha256 = 'zz' is invalid: it must be 64 hex digits")]
    [InlineData("", "", "must have either Key or KeySha256")]
    public void NeedsOneValidKeyPerEntry(string? sha256, string? unusedName, string expected)
    {
        _ = unusedName;
        var (_, result) = Read(new() { ["Tracker:WriteKeys:0:Id"] = "web", ["Tracker:WriteKeys:0:KeySha256"] = sha256, ["Tracker:WriteKeys:0:Enabled"] = "true" });
        Assert.Contains(expected, Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void ProductionNeedsAKeyUnlessAnonymousAccessIsAsked()
    {
        var (_, none) = Read([], production: true);
        Assert.Contains("Tracker:WriteKeys = '' is invalid: Production needs at least one write key", Assert.Single(none.Failures!), StringComparison.Ordinal);
        Assert.True(Read(new() { ["Tracker:Auth:AllowAnonymous"] = "true" }, production: true).Result.Succeeded);
        Assert.True(Read([], production: false).Result.Succeeded);
    }

    private static (AccessSnapshot? Snapshot, Microsoft.Extensions.Options.ValidateOptionsResult Result) Read(Dictionary<string, string?> settings, bool production = false) =>
        AccessSettings.Read(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), production);
}
