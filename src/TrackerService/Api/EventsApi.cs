using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TrackerService.Auth;
using TrackerService.Pipeline;
using TrackerService.Telemetry;

namespace TrackerService.Api;

/// <summary><c>POST /events</c>: parse and validate, then queue all of a request's events or none.</summary>
internal static class EventsApi
{
    /// <summary>The endpoint's name, and its operationId in the OpenAPI description.</summary>
    public const string PostEventsName = "PostEvents";

    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/events", PostEventsAsync)
            .WithName(PostEventsName)
            .AddEndpointFilter<TrackerService.Auth.WriteKeyFilter>() // the write key, from the header, before the body is read
            .WithSummary("Track events")
            .WithDescription("One event object or an array of them (docs/http-api.md). All of a request's events are queued, or none.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithMetadata(new EventsApiExtensions.BodySizeLimit(app.ServiceProvider.GetRequiredService<IOptions<ApiOptions>>()))
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    internal static async Task<Results<AcceptedEvents, ValidationProblem, ProblemHttpResult>> PostEventsAsync(
        HttpContext context,
        DurableIntake intake,
        EventBatchParser parser,
        IOptions<ApiOptions> options,
        TrackerTelemetry telemetry)
    {
        var cancellationToken = context.RequestAborted;
        using var body = await RequestBody.ReadAsync(context.Request, options.Value.MaxBodyBytes, cancellationToken);
        if (Refusals.ForBody(context, telemetry, body) is { } unreadable)
        {
            return unreadable;
        }

        var parsed = parser.Parse(body.Json, IntakeAccess.Current(context)?.Source);
        switch (parsed.Outcome)
        {
            case EventParseOutcome.Malformed:
                return Refusals.Refuse(context, telemetry, TrackerTelemetry.ReasonMalformed, StatusCodes.Status400BadRequest, "Malformed body", parsed.Detail);
            case EventParseOutcome.TooLarge:
                return Refusals.Refuse(context, telemetry, TrackerTelemetry.ReasonTooLarge, StatusCodes.Status413PayloadTooLarge, "Payload too large", parsed.Detail);
            case EventParseOutcome.Invalid:
                telemetry.Rejected(parsed.Refused, TrackerTelemetry.ReasonInvalid);
                var errors = parsed.Errors
                    .GroupBy(e => e.Key)
                    .ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray());
                var first = parsed.Errors[0];
                RequestRefusal.Set(context, "Invalid events", $"{parsed.Detail} {first.Key}: {first.Message}");
                return TypedResults.ValidationProblem(errors, parsed.Detail, title: "Invalid events");
        }

        var events = parsed.Events;
        var result = await intake.AcceptAsync(events, cancellationToken);
        if (result != EnqueueResult.Accepted)
        {
            return Refusals.ForQueue(context, telemetry, result, events.Length);
        }

        telemetry.Accepted(events.Length);
        return new AcceptedEvents(events.Length);
    }
}
