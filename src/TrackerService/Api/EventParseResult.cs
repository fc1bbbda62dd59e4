using TrackerService.Events;

namespace TrackerService.Api;

/// <summary>What was wrong with one event of a request: its index in the batch, the field and why.</summary>
internal readonly record struct EventError(int Index, string Field, string Message)
{
    /// <summary>The key this error is reported under in the problem details, e.g. <c>[3].userId</c>.</summary>
    public string Key => $"[{Index}].{Field}";
}

internal enum EventParseOutcome
{
    /// <summary>Every event is valid.</summary>
    Valid,

    /// <summary>The body is valid JSON but one or more events break the contract (400).</summary>
    Invalid,

    /// <summary>The body is not a JSON object or array of objects (400).</summary>
    Malformed,

    /// <summary>Too many events, or one event too large (413).</summary>
    TooLarge,
}

/// <summary>The outcome of parsing one request body: the events, or why none of them are taken.</summary>
internal sealed class EventParseResult
{
    private EventParseResult(EventParseOutcome outcome, TrackedEvent[] events, IReadOnlyList<EventError> errors, string? detail, int refused = 1)
    {
        Refused = refused;
        Outcome = outcome;
        Events = events;
        Errors = errors;
        Detail = detail;
    }

    public EventParseOutcome Outcome { get; }

    public TrackedEvent[] Events { get; }

    public IReadOnlyList<EventError> Errors { get; }

    public string? Detail { get; }

    /// <summary>How many events the request carried, when it is refused: all of them are (a body that could not be read counts as one).</summary>
    public int Refused { get; }

    public static EventParseResult Valid(TrackedEvent[] events) => new(EventParseOutcome.Valid, events, [], null);

    /// <param name="events">Every event of the request, valid or not.</param>
    public static EventParseResult Invalid(IReadOnlyList<EventError> errors, int events) =>
        new(EventParseOutcome.Invalid, [], errors, $"{errors.Select(e => e.Index).Distinct().Count()} event(s) are invalid; none were accepted.", events);

    public static EventParseResult Malformed(string detail) => new(EventParseOutcome.Malformed, [], [], detail);

    public static EventParseResult TooLarge(string detail) => new(EventParseOutcome.TooLarge, [], [], detail);
}
