using Microsoft.AspNetCore.Http.HttpResults;
using TrackerService.Pipeline;
using TrackerService.Telemetry;

namespace TrackerService.Api;

/// <summary>The refusals both public APIs give, as problem details: counted by reason, and said in the request's log line.</summary>
internal static class Refusals
{
    /// <summary>Seconds a client is told to wait before retrying a 503.</summary>
    private const string RetryAfterSeconds = "1";

    /// <summary>The refusal for a body that could not be read, or null when it was.</summary>
    public static ProblemHttpResult? ForBody(HttpContext context, TrackerTelemetry telemetry, RequestBody body) => body.Status switch
    {
        RequestBodyStatus.UnsupportedMediaType =>
            Refuse(context, telemetry, TrackerTelemetry.ReasonUnsupportedMediaType, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", body.Detail),
        RequestBodyStatus.TooLarge =>
            Refuse(context, telemetry, TrackerTelemetry.ReasonTooLarge, StatusCodes.Status413PayloadTooLarge, "Payload too large", body.Detail),
        RequestBodyStatus.BadEncoding =>
            Refuse(context, telemetry, TrackerTelemetry.ReasonMalformed, StatusCodes.Status400BadRequest, "Malformed body", body.Detail),
        RequestBodyStatus.Incomplete =>
            Refuse(context, telemetry, TrackerTelemetry.ReasonIncompleteBody, body.StatusCode, "Incomplete body", body.Detail),
        _ => null,
    };

    /// <summary>The refusal for events the queue did not take (<paramref name="result"/> is not <see cref="EnqueueResult.Accepted"/>).</summary>
    public static ProblemHttpResult ForQueue(HttpContext context, TrackerTelemetry telemetry, EnqueueResult result, int events)
    {
        if (result == EnqueueResult.Full && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away while waiting for room: not an overload, and no one reads the answer.
            return Refuse(context, telemetry, TrackerTelemetry.ReasonClientAborted, StatusCodes.Status499ClientClosedRequest, "Client closed request",
                "The client closed the request before it was queued.", events);
        }

        context.Response.Headers.RetryAfter = RetryAfterSeconds;
        if (result == EnqueueResult.Unavailable)
        {
            return Refuse(context, telemetry, TrackerTelemetry.ReasonLogUnavailable, StatusCodes.Status503ServiceUnavailable, "Write-ahead log unavailable",
                "The events could not be written to disk (Tracker:Durability=Disk); retry later. Nothing from this request was accepted.", events);
        }

        return result == EnqueueResult.Full
            ? Refuse(context, telemetry, TrackerTelemetry.ReasonQueueFull, StatusCodes.Status503ServiceUnavailable, "Service overloaded",
                "The event queue is full; retry later. Nothing from this request was accepted.", events)
            : Refuse(context, telemetry, TrackerTelemetry.ReasonShuttingDown, StatusCodes.Status503ServiceUnavailable, "Service shutting down",
                "The service is shutting down; retry later. Nothing from this request was accepted.", events);
    }

    /// <param name="events">Events refused; a request whose body could not be read counts as one.</param>
    public static ProblemHttpResult Refuse(HttpContext context, TrackerTelemetry telemetry, string reason, int status, string title, string? detail, int events = 1)
    {
        RequestRefusal.Set(context, title, detail);
        telemetry.Rejected(events, reason);
        return TypedResults.Problem(detail, statusCode: status, title: title);
    }
}
