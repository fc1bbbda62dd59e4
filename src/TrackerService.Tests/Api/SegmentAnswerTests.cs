using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TrackerService.Api;
using TrackerService.Events;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary>The Segment API's 200: its body and length, all accepted (written from bytes) or some rejected (serialized).</summary>
public sealed class SegmentAnswerTests
{
    [Fact]
    public async Task AllAcceptedIsOneBodyOfKnownLength()
    {
        using var app = new TrackerApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/batch", Json("""{"batch":[{"type":"identify","userId":"u1"},{"type":"track","event":"e","userId":"u2"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        const string expected = """{"success":true,"accepted":2,"rejected":0}""";
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
        Assert.Equal(expected.Length, response.Content.Headers.ContentLength);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AllAcceptedDeclaresItsLengthBeforeWriting()
    {
        // Given the answer to two events, written to a response of its own (TestServer gives every answer a length)
        var e = new TrackedEvent("m", EventType.Identify, null, "u", null, null, null, DateTimeOffset.UnixEpoch, null, null, null);
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Response.Body = body;

        // When
        await new SegmentAnswer([e, e], 0).ExecuteAsync(context);

        // Then the body is one piece whose length was declared, not chunks
        const string expected = """{"success":true,"accepted":2,"rejected":0}""";
        Assert.Equal(expected, Encoding.UTF8.GetString(body.ToArray()));
        Assert.Equal(expected.Length, context.Response.ContentLength);
    }

    [Fact]
    public async Task SomeRejectedCountsThemAndSaysWhy()
    {
        using var app = new TrackerApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/v1/batch", Json("""{"batch":[{"type":"identify","userId":"u1"},{"type":"track","userId":"u2"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(1, answer.RootElement.GetProperty("accepted").GetInt32());
        Assert.Equal(1, answer.RootElement.GetProperty("rejected").GetInt32());
        var error = Assert.Single(answer.RootElement.GetProperty("errors").EnumerateArray());
        Assert.Equal(1, error.GetProperty("index").GetInt32());
        Assert.Equal("event", error.GetProperty("field").GetString());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
