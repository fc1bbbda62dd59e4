using Microsoft.Extensions.Options;
using TrackerService.Auth;
using TrackerService.Events;
using TrackerService.Pipeline;
using TrackerService.Telemetry;

namespace TrackerService.Api;

/// <summary>
/// One Segment API request, from its body to the queue: read (any media type, gzip by its header or by its bytes),
/// parsed (<see cref="SegmentBatchParser"/>), the write key checked (<see cref="IntakeAccess"/>), each event completed
/// (<see cref="SegmentEvents"/>), then queued with the invalid ones, all or none.
/// </summary>
internal sealed class SegmentIntake(
    DurableIntake intake, SegmentBatchParser parser, IntakeAccess access, IOptions<ApiOptions> options, IOptionsMonitor<PrivacyOptions> privacy,
    TrackerTelemetry telemetry)
{
    public async Task<IResult> PostAsync(HttpContext context, EventType? callType)
    {
        var cancellationToken = context.RequestAborted;

        // A key in the headers is checked before the body is read; one in the body, once it is parsed.
        AccessDecision? early = null;
        if (access.HasHeaderKey(context.Request))
        {
            early = access.Decide(context, bodyWriteKey: null);
            if (!early.Value.Allowed)
            {
                return early.Value.Refusal!;
            }
        }

        using var body = await RequestBody.ReadAsync(context.Request, options.Value.MaxBodyBytes, cancellationToken, anyMediaType: true);
        if (Refusals.ForBody(context, telemetry, body) is { } unreadable)
        {
            return unreadable;
        }

        var parsed = parser.Parse(body.Json, callType);
        if (parsed.Malformed is { } malformed)
        {
            return Refusals.Refuse(context, telemetry, TrackerTelemetry.ReasonMalformed, StatusCodes.Status400BadRequest, "Malformed body", malformed);
        }

        if (parsed.TooLarge is { } tooLarge)
        {
            return Refusals.Refuse(context, telemetry, TrackerTelemetry.ReasonTooLarge, StatusCodes.Status413PayloadTooLarge, "Payload too large", tooLarge);
        }

        var decision = early ?? access.Decide(context, parsed.WriteKey, parsed.Events.Length);
        if (!decision.Allowed)
        {
            return decision.Refusal!;
        }

        var source = decision.Source;

        var ip = privacy.CurrentValue.StoreIp ? SegmentEvents.Address(context.Connection.RemoteIpAddress) : null;
        var events = parsed.Events;
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = SegmentEvents.Complete(events[i], parsed, ip, source);
        }

        var accepted = events.Length - parsed.Rejected;
        switch (await intake.AcceptAsync(events, cancellationToken))
        {
            case EnqueueResult.Accepted:
                telemetry.Accepted(accepted);
                if (parsed.Rejected > 0)
                {
                    telemetry.Rejected(parsed.Rejected, TrackerTelemetry.ReasonInvalid);
                    RequestRefusal.Set(context, "Invalid events kept in rejected_events",
                        events.First(e => e.Rejection is not null).Rejection!.Reason);
                }

                return new SegmentAnswer(events, parsed.Rejected);
            case var result:
                return Refusals.ForQueue(context, telemetry, result, events.Length);
        }
    }
}
