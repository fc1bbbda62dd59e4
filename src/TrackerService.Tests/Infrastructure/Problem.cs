using System.Net.Http.Json;
using System.Text.Json;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Reads RFC 9457 problem details off a response.</summary>
internal static class Problem
{
    /// <summary>
    /// The response's problem details; asserts it is <c>application/problem+json</c> whose <c>status</c> is the
    /// response's own status code.
    /// </summary>
    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)response.StatusCode, problem.GetProperty("status").GetInt32());
        return problem;
    }
}
