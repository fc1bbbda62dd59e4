using System.Text;
using System.Text.Json;
using TrackerService.Events;

namespace TrackerService.Api;

/// <summary>Reads and validates one event object against the contract in DESIGN.md (Segment-spec fields).</summary>
internal static class EventReader
{
    /// <summary>Longest id (userId, anonymousId, messageId) or event name, in characters.</summary>
    public const int MaxIdLength = 200;

    private const string NotStorable = "Must be valid UTF-8 text without U+0000 or unpaired surrogates.";

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
                        var typeName = ReadString(ref reader, index, field, errors);
                        if (typeName is not null && !EventTypeNames.TryParse(typeName, out type))
                        {
                            errors.Add(new EventError(index, field, "Must be one of track, identify, page, screen, group, alias."));
                        }

                        break;
                    case "event": name = ReadId(ref reader, index, field, errors); break;
                    case "userId": userId = ReadId(ref reader, index, field, errors); break;
                    case "anonymousId": anonymousId = ReadId(ref reader, index, field, errors); break;
                    case "messageId": messageId = ReadId(ref reader, index, field, errors); break;
                    case "timestamp": timestamp = ReadTime(ref reader, index, field, errors); break;
                    case "sentAt": sentAt = ReadTime(ref reader, index, field, errors); break;
                    case "properties": properties = ReadObject(json, ref reader, index, field, errors); break;
                    case "traits": traits = ReadObject(json, ref reader, index, field, errors); break;
                    case "context": context = ReadObject(json, ref reader, index, field, errors); break;
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
        if (type == EventType.Track && name is null && !HasError(errors, errorsBefore, "event") && !HasError(errors, errorsBefore, "type"))
        {
            errors.Add(new EventError(index, "event", "Required for a track event."));
        }

        if (userId is null && anonymousId is null && !HasError(errors, errorsBefore, "userId") && !HasError(errors, errorsBefore, "anonymousId"))
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

    /// <summary>
    /// Whether the string token can be stored faithfully in every sink: valid UTF-8, no lone surrogate escape,
    /// no U+0000 (which PostgreSQL's text and jsonb refuse). Only escaped strings need decoding to tell.
    /// </summary>
    private static bool IsStorableString(ref Utf8JsonReader reader, bool needValue, out string? value)
    {
        value = null;
        if (!reader.ValueIsEscaped && !needValue)
        {
            return true; // unescaped JSON text can't hold U+0000 or a surrogate; its UTF-8 is checked as a whole
        }

        try
        {
            value = reader.GetString();
            return value is null || !value.Contains('\0', StringComparison.Ordinal);
        }
        catch (InvalidOperationException)
        {
            return false; // invalid UTF-8 or a lone surrogate escape
        }
    }

    private static bool HasError(List<EventError> errors, int from, string field)
    {
        for (var i = from; i < errors.Count; i++)
        {
            if (errors[i].Field == field)
            {
                return true;
            }
        }

        return false;
    }

    private static string? ReadString(ref Utf8JsonReader reader, int index, string field, List<EventError> errors)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                if (!IsStorableString(ref reader, needValue: true, out var value))
                {
                    errors.Add(new EventError(index, field, NotStorable));
                    return null;
                }

                return value;

            case JsonTokenType.Null:
                return null;
            default:
                reader.Skip();
                errors.Add(new EventError(index, field, "Must be a string."));
                return null;
        }
    }

    /// <summary>An id or an event name: a non-blank string of at most <see cref="MaxIdLength"/> characters, or null.</summary>
    private static string? ReadId(ref Utf8JsonReader reader, int index, string field, List<EventError> errors)
    {
        var value = ReadString(ref reader, index, field, errors);
        if (value is null)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(new EventError(index, field, "Must not be empty."));
            return null;
        }

        if (value.Length > MaxIdLength)
        {
            errors.Add(new EventError(index, field, $"Is {value.Length} characters; at most {MaxIdLength} are allowed."));
            return null;
        }

        return value;
    }

    private static DateTimeOffset? ReadTime(ref Utf8JsonReader reader, int index, string field, List<EventError> errors)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var value))
        {
            return value;
        }

        reader.Skip();
        errors.Add(new EventError(index, field, "Must be an ISO-8601 date and time, e.g. 2026-01-31T12:00:00.000Z."));
        return null;
    }

    /// <summary>An object-valued field, kept as the client's own JSON text.</summary>
    private static JsonText? ReadObject(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, int index, string field, List<EventError> errors)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var start = (int)reader.TokenStartIndex;
                var depth = reader.CurrentDepth;
                var storable = true;
                while (reader.Read() && reader.CurrentDepth > depth)
                {
                    if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
                    {
                        storable &= IsStorableString(ref reader, needValue: false, out _);
                    }
                }

                if (!storable)
                {
                    errors.Add(new EventError(index, field, NotStorable));
                    return null;
                }

                // Invalid bytes are refused, not silently replaced with U+FFFD in what is stored.
                var text = json[start..(int)reader.BytesConsumed];
                if (!System.Text.Unicode.Utf8.IsValid(text))
                {
                    errors.Add(new EventError(index, field, NotStorable));
                    return null;
                }

                return new JsonText(text.ToArray());

            case JsonTokenType.Null:
                return null;
            default:
                reader.Skip();
                errors.Add(new EventError(index, field, "Must be a JSON object."));
                return null;
        }
    }
}
