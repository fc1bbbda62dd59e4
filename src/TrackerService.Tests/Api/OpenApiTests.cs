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
        Assert.Equal(["202", "400", "413", "415", "503"], answers);
        var accepted = post.GetProperty("responses").GetProperty("202").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        var schema = accepted.GetProperty("$ref").GetString()!.Split('/')[^1];
        var properties = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty(schema).GetProperty("properties");
        Assert.Contains("integer", properties.GetProperty("accepted").GetProperty("type").ToString(), StringComparison.Ordinal);
    }
}
