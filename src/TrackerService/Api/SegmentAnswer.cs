using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using TrackerService.Events;

namespace TrackerService.Api;

/// <summary>What the Segment API answers a request it took (for the OpenAPI description).</summary>
/// <param name="Success">Always true: the request was taken, as Segment's SDKs expect.</param>
/// <param name="Accepted">Events queued for the store.</param>
/// <param name="Rejected">Events that broke the contract, kept in the dead-letter table (<c>rejected_events</c>) with why.</param>
/// <param name="Errors">The first of their errors: the event's index in the request, the field and the reason.</param>
internal sealed record SegmentResponse(bool Success, int Accepted, int Rejected, IReadOnlyList<SegmentEventError>? Errors);

internal sealed record SegmentEventError(int Index, string? Field, string Reason);

/// <summary>
/// 200 with <c>{"success":true,"accepted":N,"rejected":M}</c>, and the first rejected events' errors when there are some.
/// Segment's SDKs read the status only; the counts and errors are for a person with curl.
/// </summary>
internal sealed class SegmentAnswer(TrackedEvent[] events, int rejected) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    /// <summary>How many rejected events' errors the answer lists.</summary>
    internal const int MaxErrors = 10;

    private static readonly byte[] AllAccepted = "{\"success\":true,\"accepted\":"u8.ToArray();

    public int? StatusCode => StatusCodes.Status200OK;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        if (rejected == 0)
        {
            // The usual answer, without a serializer: one write with its length, not two chunks and a chunked end.
            WriteAllAccepted(response, events.Length);
            await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
            return;
        }

        var errors = new List<SegmentEventError>();
        for (var i = 0; i < events.Length && errors.Count < MaxErrors; i++)
        {
            if (events[i].Rejection is { } r)
            {
                errors.Add(new SegmentEventError(i, r.Field, r.Reason));
            }
        }

        await JsonSerializer.SerializeAsync(response.Body, new SegmentResponse(true, events.Length - rejected, rejected, errors),
            JsonSerializerOptions.Web, httpContext.RequestAborted);
    }

    private static void WriteAllAccepted(HttpResponse response, int accepted)
    {
        Span<byte> json = stackalloc byte[64];
        AllAccepted.CopyTo(json);
        System.Buffers.Text.Utf8Formatter.TryFormat(accepted, json[AllAccepted.Length..], out var digits);
        var length = AllAccepted.Length + digits;
        ",\"rejected\":0}"u8.CopyTo(json[length..]);
        length += ",\"rejected\":0}"u8.Length;
        response.ContentLength = length; // before the first write, which sends the headers
        System.Buffers.BuffersExtensions.Write(response.BodyWriter, json[..length]);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(SegmentResponse), ["application/json"]));
}
