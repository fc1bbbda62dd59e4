using System.Net;
using System.Text.Json;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary>The public API describes itself at <c>/openapi/v1.json</c>, from the endpoints' own metadata.</summary>
public sealed class OpenApiTests
{
    [Fact]
    public async Task DescribesPostEventsWithItsBodyAndEveryAnswer()
    {
        using var app = new TrackerApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var post = document.RootElement.GetProperty("paths").GetProperty("/events").GetProperty("post");
        Assert.Equal("PostEvents", post.GetProperty("operationId").GetString());
        var body = post.GetProperty("requestBody").GetProperty("content");
        Assert.True(body.TryGetProperty("application/json", out _));
        Assert.True(body.TryGetProperty("text/plain", out _));
        var answers = post.GetProperty("responses").EnumerateObject().Select(r => r.Name).Order().ToArray();
        Assert.Equal(["202", "400", "401", "403", "413", "415", "429", "503"], answers);
        var accepted = post.GetProperty("responses").GetProperty("202").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        var schema = accepted.GetProperty("$ref").GetString()!.Split('/')[^1];
        var properties = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty(schema).GetProperty("properties");
        Assert.Contains("integer", properties.GetProperty("accepted").GetProperty("type").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DescribesTheSegmentApiWithItsBodyAndEveryAnswer()
    {
        using var app = new TrackerApplication();
        using var client = app.CreateClient();

        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));

        var paths = document.RootElement.GetProperty("paths");
        foreach (var path in new[] { "/v1/batch", "/v1/import", "/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias" })
        {
            var post = paths.GetProperty(path).GetProperty("post");
            Assert.True(post.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _), path);
            var answers = post.GetProperty("responses").EnumerateObject().Select(r => r.Name).Order().ToArray();
            Assert.Equal(["200", "400", "401", "403", "413", "415", "429", "503"], answers);
        }

        Assert.Equal("SegmentBatch", paths.GetProperty("/v1/batch").GetProperty("post").GetProperty("operationId").GetString());
        Assert.False(paths.TryGetProperty("/v1/t", out _)); // analytics.js's aliases are served, not described
    }
}
