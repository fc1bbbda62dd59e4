using System.Text.Json;
using TrackerService.Events;

namespace TrackerService.Api;

/// <summary>
/// Turns a request body (one event object or an array of them) into validated events, all or none.
/// The body is walked once with <see cref="Utf8JsonReader"/>; each event is then read on its own, so an
/// error names the event's index and an over-deep event does not hide the errors of the others.
/// </summary>
internal sealed class EventBatchParser(ApiOptions limits, TimeProvider time)
{
    /// <summary>JSON nesting allowed inside one event, the event object itself being level 1.</summary>
    public const int MaxEventDepth = 32;

    // The outer walk must get past an over-deep event to report it by index; beyond this the body is refused whole.
    private static readonly JsonReaderOptions OuterReader = new() { MaxDepth = 64 };

    /// <param name="source">The id of the write key the request came with, stored with each event.</param>
    public EventParseResult Parse(ReadOnlySpan<byte> body, string? source = null)
    {
        var receivedAt = time.GetUtcNow();
        var events = new List<TrackedEvent>();
        var errors = new List<EventError>();
        var reader = new Utf8JsonReader(body, OuterReader);
        try
        {
            if (!reader.Read())
            {
                return EventParseResult.Malformed("The body is empty; send a JSON event object or an array of them.");
            }

            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    if (ParseOne(body, ref reader, 0, receivedAt, source, events, errors) is { } tooLargeOne)
                    {
                        return tooLargeOne;
                    }

                    break;
                case JsonTokenType.StartArray:
                    var index = 0;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (index == limits.MaxBatchEvents)
                        {
                            return EventParseResult.TooLarge($"A request may carry at most {limits.MaxBatchEvents} events.");
                        }

                        if (reader.TokenType == JsonTokenType.StartObject)
                        {
                            if (ParseOne(body, ref reader, index, receivedAt, source, events, errors) is { } tooLarge)
                            {
                                return tooLarge;
                            }
                        }
                        else
                        {
                            reader.Skip();
                            errors.Add(new EventError(index, "$", "An event must be a JSON object."));
                        }

                        index++;
                    }

                    if (index == 0)
                    {
                        return EventParseResult.Malformed("The batch is empty; send at least one event.");
                    }

                    break;
                default:
                    return EventParseResult.Malformed("The body must be a JSON event object or an array of them.");
            }

            if (reader.Read())
            {
                return EventParseResult.Malformed("Unexpected content after the JSON value.");
            }
        }
        catch (JsonException ex)
        {
            return EventParseResult.Malformed($"The body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).");
        }

        return errors.Count == 0
            ? EventParseResult.Valid([.. events])
            : EventParseResult.Invalid(errors, events.Count + errors.Select(e => e.Index).Distinct().Count());
    }

    /// <summary>Parses the event whose <c>{</c> the reader is on, leaving the reader on its <c>}</c>.</summary>
    /// <returns>A 413 result when the event is over the size limit, otherwise null.</returns>
    private EventParseResult? ParseOne(
        ReadOnlySpan<byte> body, ref Utf8JsonReader reader, int index, DateTimeOffset receivedAt, string? source,
        List<TrackedEvent> events, List<EventError> errors)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        var length = (int)reader.BytesConsumed - start;
        if (length > limits.MaxEventBytes)
        {
            return EventParseResult.TooLarge($"Event [{index}] is {length} bytes; an event may be at most {limits.MaxEventBytes} bytes.");
        }

        var errorsBefore = errors.Count;
        var parsed = EventReader.Read(body.Slice(start, length), index, receivedAt, errors, EventRules.Events, source);
        if (parsed is not null && errors.Count == errorsBefore)
        {
            events.Add(parsed);
        }

        return null;
    }
}
