using System.Buffers.Text;
using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;

namespace TrackerService.Api;

/// <summary>The answer to an accepted request.</summary>
/// <param name="Accepted">How many events were queued.</param>
internal sealed record AcceptedResponse(int Accepted);

/// <summary>
/// 202 with <c>{"accepted":N}</c>, written straight from bytes: the hottest answer of the service, where
/// serializing an <see cref="AcceptedResponse"/> through System.Text.Json was a visible share of its CPU time
/// under single-event load (dotnet-trace; docs/performance.md).
/// </summary>
internal sealed class AcceptedEvents(int count) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    private const string ContentType = "application/json; charset=utf-8";

    public int? StatusCode => StatusCodes.Status202Accepted;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        // {"accepted":2147483647} is 23 bytes.
        Span<byte> json = stackalloc byte[32];
        "{\"accepted\":"u8.CopyTo(json);
        const int prefix = 12;
        Utf8Formatter.TryFormat(count, json[prefix..], out var digits);
        json[prefix + digits] = (byte)'}';
        var body = json[..(prefix + digits + 1)];

        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status202Accepted;
        response.ContentType = ContentType;
        response.ContentLength = body.Length;
        body.CopyTo(response.BodyWriter.GetSpan(body.Length));
        response.BodyWriter.Advance(body.Length);
        return response.BodyWriter.FlushAsync().AsTask();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status202Accepted, typeof(AcceptedResponse), ["application/json"]));
}
