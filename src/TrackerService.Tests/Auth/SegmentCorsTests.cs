using System.Net;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Auth;

/// <summary>
/// The real service's Segment API: a browser's preflight, and its POST with the key in the body.
/// </summary>
public sealed class SegmentCorsTests
{
    [Fact]
    public async Task APreflightOnTheSegmentApiIsAnsweredAndTheBodysKeyIsHeldToItsOrigins()
    {
        // Given a key that takes one origin only
        var settings = WriteKeys.Only(("shop", "shop-key"));
        settings["Tracker:WriteKeys:0:AllowedOrigins:0"] = "https://shop.example";
        using var app = new TrackerApplication(settings);
        using var client = app.CreateClient();

        // When a page of that origin asks whether it may post
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/t");
        preflight.Headers.Add("Origin", "https://shop.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type");
        using var answer = await client.SendAsync(preflight);

        // Then it may
        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal("https://shop.example", Assert.Single(answer.Headers.GetValues("Access-Control-Allow-Origin")));

        // And its POST (text/plain, the key in the body) is taken, while another page's is refused
        foreach (var (origin, expected) in new[] { ("https://shop.example", HttpStatusCode.OK), ("https://evil.example", HttpStatusCode.Forbidden) })
        {
            using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/t")
            {
                Content = Bodies.Raw($$"""{"event":"Clicked","userId":"u","messageId":"cors-{{expected}}","writeKey":"shop-key"}""", "text/plain"),
            };
            post.Headers.Add("Origin", origin);
            using var response = await client.SendAsync(post);
            Assert.Equal(expected, response.StatusCode);
        }

        await app.WaitForStoredAsync(1);
    }
}
