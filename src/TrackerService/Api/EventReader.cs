using System.Diagnostics;
using System.Text.Json;
using TrackerService.Events;

namespace TrackerService.Api;

/// <summary>
/// Reads and validates one event object against the contract (docs/http-api.md; the Segment spec's fields): which
/// fields there are and what makes an event whole, under <see cref="EventRules"/>. Each field's own rules are <see cref="EventFields"/>.
/// </summary>
internal static class EventReader
{
    private static readonly JsonReaderOptions EventOptions = new() { MaxDepth = EventBatchParser.MaxEventDepth };

    /// <summary>Reads the event in <paramref name="json"/>; problems are added to <paramref name="errors"/>.</summary>
    /// <param name="source">The id of the write key it came with, for <see cref="TrackedEvent.Source"/>.</param>
    /// <returns>The event, or null when it is invalid.</returns>
    public static TrackedEvent? Read(ReadOnlySpan<byte> json, int index, DateTimeOffset receivedAt, List<EventError> errors, EventRules rules = default,
        string? source = null)
    {
        var errorsBefore = errors.Count;
        var type = rules.CallType ?? EventType.Track;
        var typeGiven = false;
        string? eventName = null, userId = null, anonymousId = null, messageId = null;
        string? name = null, category = null, groupId = null, previousId = null;
        JsonText? properties = null, traits = null, context = null, integrations = null;
        DateTimeOffset? timestamp = null, sentAt = null, originalTimestamp = null;

        var reader = new Utf8JsonReader(json, EventOptions);
        try
        {
            reader.Read(); // the event's '{'
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // Field names are compared as UTF-8 (escapes included), not decoded into a string each.
                var field = Field(ref reader);
                reader.Read();
                switch (field)
                {
                    case "type":
                        typeGiven = ReadType(ref reader, index, rules, errors, ref type);
                        break;
                    case "event": eventName = EventFields.ReadId(ref reader, index, field, errors); break;
                    case "userId": userId = ReadId(ref reader, index, field, errors, rules); break;
                    case "anonymousId": anonymousId = ReadId(ref reader, index, field, errors, rules); break;
                    case "messageId": messageId = ReadId(ref reader, index, field, errors, rules); break;
                    case "groupId": groupId = ReadId(ref reader, index, field, errors, rules); break;
                    case "previousId": previousId = ReadId(ref reader, index, field, errors, rules); break;
                    case "name": name = EventFields.ReadName(ref reader, index, field, errors); break;
                    case "category": category = EventFields.ReadName(ref reader, index, field, errors); break;
                    case "timestamp": timestamp = EventFields.ReadTime(ref reader, index, field, errors); break;
                    case "sentAt": sentAt = EventFields.ReadTime(ref reader, index, field, errors); break;
                    case "originalTimestamp": originalTimestamp = EventFields.ReadTime(ref reader, index, field, errors); break;
                    case "properties": properties = EventFields.ReadObject(json, ref reader, index, field, errors); break;
                    case "traits": traits = EventFields.ReadObject(json, ref reader, index, field, errors); break;
                    case "context": context = EventFields.ReadObject(json, ref reader, index, field, errors); break;
                    case "integrations": integrations = EventFields.ReadObject(json, ref reader, index, field, errors); break;
                    default:
                        // receivedAt and source are the server's to set, and fields outside the contract are not stored.
                        reader.Skip();
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // The outer walk already proved the JSON well-formed, so the only failure left here is depth.
            errors.Add(new EventError(index, "$", $"JSON nesting is deeper than {EventBatchParser.MaxEventDepth} levels."));
            return null;
        }
        catch (InvalidOperationException)
        {
            // A field name that is not text: an unpaired surrogate escape or invalid UTF-8, which no comparison can read.
            errors.Add(new EventError(index, "$", EventFields.NotStorable));
            return null;
        }

        // An unknown type is reported as such; it is not taken for a track event missing its name.
        var typeKnown = !EventFields.HasError(errors, errorsBefore, "type");
        if (rules.Segment && rules.CallType is null && !typeGiven && typeKnown)
        {
            errors.Add(new EventError(index, "type", "Required in a batch: one of track, identify, page, screen, group, alias."));
            typeKnown = false;
        }

        if (typeKnown)
        {
            Require(type == EventType.Track, eventName, "event", "Required for a track event.", index, errors, errorsBefore);
            Require(rules.Segment && type == EventType.Group, groupId, "groupId", "Required for a group call.", index, errors, errorsBefore);
            Require(rules.Segment && type == EventType.Alias, previousId, "previousId", "Required for an alias call.", index, errors, errorsBefore);
            Require(rules.Segment && type == EventType.Alias, userId, "userId", "Required for an alias call.", index, errors, errorsBefore);
        }

        if (userId is null && anonymousId is null && !EventFields.HasError(errors, errorsBefore, "userId") && !EventFields.HasError(errors, errorsBefore, "anonymousId"))
        {
            errors.Add(new EventError(index, "userId", "Either userId or anonymousId is required."));
        }

        if (errors.Count > errorsBefore)
        {
            return null;
        }

        return new TrackedEvent(
            messageId ?? Guid.CreateVersion7(receivedAt).ToString(),
            type, eventName, userId, anonymousId, timestamp, sentAt, receivedAt, properties, traits, context)
        {
            Name = name,
            Category = category,
            GroupId = groupId,
            PreviousId = previousId,
            OriginalTimestamp = originalTimestamp,
            Integrations = integrations,
            Source = source,
            Origin = Activity.Current?.Context ?? default,
        };
    }

    /// <summary>Reads <c>type</c>; on a single call it must be the path's.</summary>
    /// <returns>Whether the event gave a type.</returns>
    private static bool ReadType(ref Utf8JsonReader reader, int index, EventRules rules, List<EventError> errors, ref EventType type)
    {
        var typeName = EventFields.ReadString(ref reader, index, "type", errors);
        if (typeName is null)
        {
            return false;
        }

        if (!EventTypeNames.TryParse(typeName, out var given))
        {
            errors.Add(new EventError(index, "type", "Must be one of track, identify, page, screen, group, alias."));
        }
        else if (rules.CallType is { } call && given != call)
        {
            errors.Add(new EventError(index, "type", $"Is {typeName}, but the call is {call.ToWireName()}: leave it out, or post it to /v1/batch."));
        }
        else
        {
            type = given;
        }

        return true;
    }

    /// <summary>An id: a string; on the Segment API a JSON number too, kept as its decimal text.</summary>
    private static string? ReadId(ref Utf8JsonReader reader, int index, string field, List<EventError> errors, EventRules rules) =>
        rules.Segment && reader.TokenType == JsonTokenType.Number
            ? EventFields.NumberText(ref reader, index, field, errors)
            : EventFields.ReadId(ref reader, index, field, errors);

    private static void Require(bool applies, string? value, string field, string message, int index, List<EventError> errors, int errorsBefore)
    {
        if (applies && value is null && !EventFields.HasError(errors, errorsBefore, field))
        {
            errors.Add(new EventError(index, field, message));
        }
    }

    /// <summary>The contract's name for the property the reader is on, or null for a field outside the contract.</summary>
    private static string? Field(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("type"u8) ? "type"
        : reader.ValueTextEquals("event"u8) ? "event"
        : reader.ValueTextEquals("userId"u8) ? "userId"
        : reader.ValueTextEquals("anonymousId"u8) ? "anonymousId"
        : reader.ValueTextEquals("messageId"u8) ? "messageId"
        : reader.ValueTextEquals("timestamp"u8) ? "timestamp"
        : reader.ValueTextEquals("sentAt"u8) ? "sentAt"
        : reader.ValueTextEquals("properties"u8) ? "properties"
        : reader.ValueTextEquals("traits"u8) ? "traits"
        : reader.ValueTextEquals("context"u8) ? "context"
        : reader.ValueTextEquals("name"u8) ? "name"
        : reader.ValueTextEquals("category"u8) ? "category"
        : reader.ValueTextEquals("groupId"u8) ? "groupId"
        : reader.ValueTextEquals("previousId"u8) ? "previousId"
        : reader.ValueTextEquals("originalTimestamp"u8) ? "originalTimestamp"
        : reader.ValueTextEquals("integrations"u8) ? "integrations"
        : null;
}
