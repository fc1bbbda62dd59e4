using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Auth;

/// <summary><c>POST /events</c> with write keys in the header: who is let in, and what a refused request is told.</summary>
public sealed class WriteKeyTests
{
    private const string Key = "web-key-0123456789";

    [Theory]
    [InlineData("basic")]
    [InlineData("basic-with-password")]
    [InlineData("basic-without-colon")]
    [InlineData("bearer")]
    [InlineData("lower-case-scheme")]
    public async Task TakesTheKeyAsBasicUserOrBearerToken(string form)
    {
        // Given a service with one write key
        using var app = new TrackerApplication(WriteKeys.Only(("web", Key)));
        var authorization = form switch
        {
            "basic" => WriteKeys.Basic(Key),
            "basic-with-password" => WriteKeys.Basic(Key, "ignored"),
            "basic-without-colon" => new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Key))),
            "lower-case-scheme" => new AuthenticationHeaderValue("bearer", Key),
            _ => WriteKeys.Bearer(Key),
        };
        using var client = WriteKeys.Client(app, authorization);

        // When an event comes with the key
        using var response = await client.PostAsync("/events", Bodies.Json(Bodies.Track($"{form}-1")));

        // Then it is accepted and stored, with the key's id as its source
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await app.WaitForStoredAsync(1);
        Assert.Equal(1, await app.CountStoredAsync("source = 'web'"));
    }

    [Fact]
    public async Task TakesAKeyConfiguredByItsHash()
    {
        // Given a key configured only by its SHA-256 (the secret is not in the settings)
        var settings = WriteKeys.Only();
        settings["Tracker:WriteKeys:0:Id"] = "server";
        settings["Tracker:WriteKeys:0:Key"] = null;
        settings["Tracker:WriteKeys:0:KeySha256"] = WriteKeys.Sha256(Key).ToLowerInvariant();
        using var app = new TrackerApplication(settings);
        using var client = WriteKeys.Client(app, WriteKeys.Basic(Key));

        // When
        using var response = await client.PostAsync("/events", Bodies.Json(Bodies.Track("hashed-1")));

        // Then
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await app.WaitForStoredAsync(1);
    }

    [Theory]
    [InlineData(null, "Missing write key")]
    [InlineData("Basic c29tZS1vdGhlci1rZXk6", "Unknown write key")] // some-other-key:
    [InlineData("Bearer some-other-key", "Unknown write key")]
    [InlineData("Basic %%%not-base64%%%", "Invalid credentials")]
    [InlineData("Basic ", "Invalid credentials")]
    [InlineData("Basic OnBhc3N3b3Jk", "Invalid credentials")] // ":password": no user name
    [InlineData("Bearer ", "Invalid credentials")]
    [InlineData("Bearer", "Invalid credentials")]
    [InlineData("Digest username=\"x\"", "Invalid credentials")]
    [InlineData("Basic", "Invalid credentials")]
    public async Task RefusesAMissingUnknownOrMalformedKeyWith401AndChangesNothing(string? authorization, string title)
    {
        // Given a service with one key and no anonymous access, its refusals counted
        using var app = new TrackerApplication(WriteKeys.Only(("web", Key)));
        using var rejected = new CounterRecorder(app.Services.GetRequiredService<IMeterFactory>(), "tracker.events.rejected");
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/events") { Content = Bodies.Json(Bodies.Track("refused-1")) };
        if (authorization is not null)
        {
            Assert.True(request.Headers.TryAddWithoutValidation("Authorization", authorization));
        }

        // When
        using var response = await client.SendAsync(request);

        // Then it is a 401 problem saying which, with a challenge, counted as unauthorized
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await Problem.ReadAsync(response);
        Assert.Equal(title, problem.GetProperty("title").GetString());
        Assert.DoesNotContain("some-other-key", problem.ToString(), StringComparison.Ordinal);
        Assert.Equal("Basic", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Contains("1 reason=unauthorized", rejected.Measurements);

        // And nothing from it was stored: the next accepted event is the only one
        using var keyed = WriteKeys.Client(app, WriteKeys.Basic(Key));
        Assert.Equal(HttpStatusCode.Accepted, (await keyed.PostAsync("/events", Bodies.Json(Bodies.Track("after-1")))).StatusCode);
        await app.WaitForStoredAsync(1);
        Assert.Equal(0, await app.CountStoredAsync("message_id = 'refused-1'"));
    }

    [Fact]
    public async Task RefusesADisabledKey()
    {
        // Given a key that is configured but disabled
        var settings = WriteKeys.Only(("old", Key));
        settings["Tracker:WriteKeys:0:Enabled"] = "false";
        using var app = new TrackerApplication(settings);
        using var client = WriteKeys.Client(app, WriteKeys.Basic(Key));

        // When
        using var response = await client.PostAsync("/events", Bodies.Json(Bodies.Track("disabled-1")));

        // Then
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await Problem.ReadAsync(response);
        Assert.Equal("Disabled write key", problem.GetProperty("title").GetString());
        Assert.DoesNotContain(Key, problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithAnonymousAccessTakesKeylessRequestsButStillRefusesAnUnknownKey()
    {
        // Given keys and anonymous access allowed
        var settings = WriteKeys.Only(("web", Key));
        settings["Tracker:Auth:AllowAnonymous"] = "true";
        using var app = new TrackerApplication(settings);
        using var keyless = app.CreateClient();
        using var unknown = WriteKeys.Client(app, WriteKeys.Bearer("not-a-key"));

        // When a request comes without a key, and one with an unknown key
        using var accepted = await keyless.PostAsync("/events", Bodies.Json(Bodies.Track("anonymous-1")));
        using var refused = await unknown.PostAsync("/events", Bodies.Json(Bodies.Track("unknown-1")));

        // Then the first is taken and the second refused
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        await app.WaitForStoredAsync(1);
    }

    [Fact]
    public async Task DevelopmentShipsADocumentedKey()
    {
        // Given the service as tests run it (Development), with only the keys of its settings files
        var settings = new Dictionary<string, string?> { ["Tracker:Auth:AllowAnonymous"] = "false" };
        using var app = new TrackerApplication(settings);

        // When the quick start's key is sent (curl -u dev-write-key:), and then no key
        using var keyed = WriteKeys.Client(app, WriteKeys.Basic("dev-write-key"));
        using var accepted = await keyed.PostAsync("/events", Bodies.Json(Bodies.Track("dev-1")));
        using var keyless = app.CreateClient();
        using var refused = await keyless.PostAsync("/events", Bodies.Json(Bodies.Track("dev-2")));

        // Then the key is taken, and a request without one refused
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
