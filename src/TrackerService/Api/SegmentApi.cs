using Microsoft.Extensions.Options;
using TrackerService.Auth;
using TrackerService.Events;
using TrackerService.Pipeline;
using TrackerService.Telemetry;

namespace TrackerService.Api;

/// <summary>
/// The Segment HTTP tracking API (docs/http-api.md), so that the SDKs people already use send here unmodified:
/// <c>POST /v1/batch</c> (and <c>/v1/import</c>, <c>/v1/b</c>) and one path per call type, by its name
/// (<c>/v1/track</c>) and by the letter analytics.js posts to (<c>/v1/t</c>). A request is taken whole or refused
/// whole (queue full, stopping), but an invalid event in it is kept in the dead-letter table instead of costing the others.
/// </summary>
internal static class SegmentApi
{
    /// <summary>The operationId of the batch endpoint, and the prefix of the single calls' (<c>SegmentTrack</c>).</summary>
    public const string BatchName = "SegmentBatch";

    /// <summary>The operationId of <c>/v1/import</c>, the batch endpoint's legacy alias.</summary>
    public const string ImportName = "SegmentImport";

    public static RouteGroupBuilder MapSegmentApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("Segment API");
        var limit = new EventsApiExtensions.BodySizeLimit(app.ServiceProvider.GetRequiredService<IOptions<ApiOptions>>());
        foreach (var (path, name) in new[] { ("/batch", BatchName), ("/import", ImportName), ("/b", null) })
        {
            var batch = Describe(v1.MapPost(path, (HttpContext context, SegmentIntake intake) => intake.PostAsync(context, null)), limit, name,
                "Track a batch of events", "A Segment batch envelope: {\"batch\": [...], \"sentAt\", \"context\", \"integrations\", \"writeKey\"}.");
            if (name is null)
            {
                batch.ExcludeFromDescription(); // analytics.js's batching path, as /v1/batch
            }
        }

        foreach (var type in Enum.GetValues<EventType>())
        {
            var name = type.ToWireName();
            var summary = $"A single {name} call";
            Describe(v1.MapPost("/" + name, (HttpContext context, SegmentIntake intake) => intake.PostAsync(context, type)), limit,
                "Segment" + char.ToUpperInvariant(name[0]) + name[1..], summary, $"The {name} call's event object; its type is the path's.");
            Describe(v1.MapPost("/" + name[0], (HttpContext context, SegmentIntake intake) => intake.PostAsync(context, type)), limit, null,
                summary + " (analytics.js's path)", $"As /v1/{name}.").ExcludeFromDescription();
        }

        return v1;
    }

    private static RouteHandlerBuilder Describe(RouteHandlerBuilder endpoint, EventsApiExtensions.BodySizeLimit limit, string? name, string summary, string description)
    {
        if (name is not null)
        {
            endpoint.WithName(name);
        }

        return endpoint
            .WithSummary(summary)
            .WithDescription(description + " Answers 200 {\"success\":true}; invalid events are counted and kept in rejected_events.")
            .WithMetadata(limit)
            .Produces<SegmentResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType) // a Content-Encoding other than gzip
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }
}
