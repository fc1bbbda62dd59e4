using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Auth;

/// <summary>Each write key has a token bucket of its own: one key over its limit is told to wait, and no other key is.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task AKeyOverItsLimitGets429WithRetryAfterWhileAnotherKeysRequestsAllSucceed()
    {
        // Given a key with a tiny limit (1 a second, 2 at once) and one with a large default limit
        var settings = WriteKeys.Only(("flood", "flood-key"), ("calm", "calm-key"));
        settings["Tracker:WriteKeys:0:RateLimit:PermitsPerSecond"] = "1";
        settings["Tracker:WriteKeys:0:RateLimit:Burst"] = "2";
        settings["Tracker:Auth:DefaultRateLimit:PermitsPerSecond"] = "1000";
        using var app = new TrackerApplication(settings);
        using var rejected = new CounterRecorder(app.Services.GetRequiredService<IMeterFactory>(), "tracker.events.rejected");
        using var flood = WriteKeys.Client(app, WriteKeys.Basic("flood-key"));
        using var calm = WriteKeys.Client(app, WriteKeys.Basic("calm-key"));

        // When the first key sends 20 requests, each followed by one of the other key's
        var floodAnswers = new List<HttpResponseMessage>();
        var calmStatuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            floodAnswers.Add(await flood.PostAsync("/events", Bodies.Json(Bodies.Track($"flood-{i}"))));
            using var response = await calm.PostAsync("/events", Bodies.Json(Bodies.Track($"calm-{i}")));
            calmStatuses.Add(response.StatusCode);
        }

        // Then the flooding key got its burst (and maybe a second's token) and then 429s, each saying when to retry
        var accepted = floodAnswers.Count(r => r.StatusCode == HttpStatusCode.Accepted);
        Assert.InRange(accepted, 2, 4);
        var limited = floodAnswers.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(20 - accepted, limited.Count);
        foreach (var response in limited)
        {
            Assert.InRange(response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
            Assert.Equal("Rate limit exceeded", (await Problem.ReadAsync(response)).GetProperty("title").GetString());
        }

        // And every request of the other key was accepted, and only the accepted events were stored
        Assert.All(calmStatuses, status => Assert.Equal(HttpStatusCode.Accepted, status));
        await app.WaitForStoredAsync(20 + accepted);
        Assert.Equal(limited.Count, rejected.Measurements.Count(m => m == "1 reason=rate_limited"));
        floodAnswers.ForEach(r => r.Dispose());
    }

    [Fact]
    public async Task KeysWithoutALimitAreNotLimited()
    {
        // Given a key without a limit and no default limit
        using var app = new TrackerApplication(WriteKeys.Only(("server", "server-key")));
        using var client = WriteKeys.Client(app, WriteKeys.Bearer("server-key"));

        // When it sends many requests at once
        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.PostAsync("/events", Bodies.Json(Bodies.Track($"free-{i}")))));

        // Then all are taken
        Assert.All(answers, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        await app.WaitForStoredAsync(200);
    }
}
