using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TrackerService.Api;

namespace TrackerService.Tests.Api;

public sealed class AcceptedEventsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(500)]
    [InlineData(int.MaxValue)]
    public async Task WritesA202WithTheCountAsJson(int count)
    {
        // Given a response to write into
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;

        // When the answer for an accepted request is written
        await new AcceptedEvents(count).ExecuteAsync(context);

        // Then it is a 202 whose JSON body says how many were queued, with a matching length
        Assert.Equal(StatusCodes.Status202Accepted, context.Response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", context.Response.ContentType);
        Assert.Equal(body.Length, context.Response.ContentLength);
        using var json = JsonDocument.Parse(body.ToArray());
        Assert.Equal(count, json.RootElement.GetProperty("accepted").GetInt32());
        Assert.Single(json.RootElement.EnumerateObject());
    }
}
