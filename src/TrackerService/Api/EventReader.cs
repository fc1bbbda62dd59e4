using System.Text;
using System.Text.Json;
using TrackerService.Events;

namespace TrackerService.Api;

/// <summary>
/// Reads and validates one event object against the contract (docs/http-api.md; the Segment spec's fields): which
/// fields there are and what makes an event whole. Each field's own rules are <see cref="EventFields"/>.
/// </summary>
internal static class EventReader
{
    private static readonly JsonReaderOptions EventOptions = new() { MaxDepth = EventBatchParser.MaxEventDepth };

    /// <summary>Reads the event in <paramref name="json"/>; problems are added to <paramref name="errors"/>.</summary>
    /// <returns>The event, or null when it is invalid.</returns>
    public static TrackedEvent? Read(ReadOnlySpan<byte> json, int index, DateTimeOffset receivedAt, List<EventError> errors)
    {
        var errorsBefore = errors.Count;
        var type = EventType.Track;
        string? name = null, userId = null, anonymousId = null, messageId = null;
        JsonText? properties = null, traits = null, context = null;
        DateTimeOffset? timestamp = null, sentAt = null;

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
                        var typeName = EventFields.ReadString(ref reader, index, field, errors);
                        if (typeName is not null && !EventTypeNames.TryParse(typeName, out type))
                        {
                            errors.Add(new EventError(index, field, "Must be one of track, identify, page, screen, group, alias."));
                        }

                        break;
                    case "event": name = EventFields.ReadId(ref reader, index, field, errors); break;
                    case "userId": userId = EventFields.ReadId(ref reader, index, field, errors); break;
                    case "anonymousId": anonymousId = EventFields.ReadId(ref reader, index, field, errors); break;
                    case "messageId": messageId = EventFields.ReadId(ref reader, index, field, errors); break;
                    case "timestamp": timestamp = EventFields.ReadTime(ref reader, index, field, errors); break;
                    case "sentAt": sentAt = EventFields.ReadTime(ref reader, index, field, errors); break;
                    case "properties": properties = EventFields.ReadObject(json, ref reader, index, field, errors); break;
                    case "traits": traits = EventFields.ReadObject(json, ref reader, index, field, errors); break;
                    case "context": context = EventFields.ReadObject(json, ref reader, index, field, errors); break;
                    default:
                        // receivedAt is the server's to set, and fields outside the contract are not stored.
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

        // An unknown type is reported as such; it is not taken for a track event missing its name.
        if (type == EventType.Track && name is null && !EventFields.HasError(errors, errorsBefore, "event") && !EventFields.HasError(errors, errorsBefore, "type"))
        {
            errors.Add(new EventError(index, "event", "Required for a track event."));
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
            type, name, userId, anonymousId, timestamp, sentAt, receivedAt, properties, traits, context);
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
        : null;
}
