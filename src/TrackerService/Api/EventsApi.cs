using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TrackerService.Pipeline;
using TrackerService.Telemetry;

namespace TrackerService.Api;

/// <summary><c>POST /events</c>: parse and validate, then queue all of a request's events or none.</summary>
internal static class EventsApi
{
    /// <summary>Seconds a client is told to wait before retrying a 503.</summary>
    private const string RetryAfterSeconds = "1";

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
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    internal static async Task<Results<AcceptedEvents, ValidationProblem, ProblemHttpResult>> PostEventsAsync(
        HttpContext context,
        EventQueue queue,
        EventBatchParser parser,
        IOptions<ApiOptions> options,
        TrackerTelemetry telemetry)
    {
        var cancellationToken = context.RequestAborted;
        using var body = await RequestBody.ReadAsync(context.Request, options.Value.MaxBodyBytes, cancellationToken);
        switch (body.Status)
        {
            case RequestBodyStatus.UnsupportedMediaType:
                return Refuse(context, telemetry, TrackerTelemetry.ReasonUnsupportedMediaType, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", body.Detail);
            case RequestBodyStatus.TooLarge:
                return Refuse(context, telemetry, TrackerTelemetry.ReasonTooLarge, StatusCodes.Status413PayloadTooLarge, "Payload too large", body.Detail);
            case RequestBodyStatus.BadEncoding:
                return Refuse(context, telemetry, TrackerTelemetry.ReasonMalformed, StatusCodes.Status400BadRequest, "Malformed body", body.Detail);
            case RequestBodyStatus.Incomplete:
                return Refuse(context, telemetry, TrackerTelemetry.ReasonIncompleteBody, body.StatusCode, "Incomplete body", body.Detail);
        }

        var parsed = parser.Parse(body.Json);
        switch (parsed.Outcome)
        {
            case EventParseOutcome.Malformed:
                return Refuse(context, telemetry, TrackerTelemetry.ReasonMalformed, StatusCodes.Status400BadRequest, "Malformed body", parsed.Detail);
            case EventParseOutcome.TooLarge:
                return Refuse(context, telemetry, TrackerTelemetry.ReasonTooLarge, StatusCodes.Status413PayloadTooLarge, "Payload too large", parsed.Detail);
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
        switch (await queue.EnqueueAsync(events, cancellationToken))
        {
            case EnqueueResult.Accepted:
                telemetry.Accepted(events.Length);
                return new AcceptedEvents(events.Length);
            case EnqueueResult.Full when cancellationToken.IsCancellationRequested:
                // The client went away while waiting for room: not an overload, and no one reads the answer.
                return Refuse(context, telemetry, TrackerTelemetry.ReasonClientAborted, StatusCodes.Status499ClientClosedRequest, "Client closed request",
                    "The client closed the request before it was queued.", events.Length);
            case EnqueueResult.Full:
                context.Response.Headers.RetryAfter = RetryAfterSeconds;
                return Refuse(context, telemetry, TrackerTelemetry.ReasonQueueFull, StatusCodes.Status503ServiceUnavailable, "Service overloaded",
                    "The event queue is full; retry later. Nothing from this request was accepted.", events.Length);
            default:
                context.Response.Headers.RetryAfter = RetryAfterSeconds;
                return Refuse(context, telemetry, TrackerTelemetry.ReasonShuttingDown, StatusCodes.Status503ServiceUnavailable, "Service shutting down",
                    "The service is shutting down; retry later. Nothing from this request was accepted.", events.Length);
        }
    }

    /// <param name="events">Events refused; a request whose body could not be read counts as one.</param>
    private static ProblemHttpResult Refuse(HttpContext context, TrackerTelemetry telemetry, string reason, int status, string title, string? detail, int events = 1)
    {
        RequestRefusal.Set(context, title, detail);
        telemetry.Rejected(events, reason);
        return TypedResults.Problem(detail, statusCode: status, title: title);
    }
}
