using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using TrackerService.Events;

namespace TrackerService.Spill;

/// <summary>
/// One event per line (<see cref="EventLine"/>), so a segment can be read, and if need be replayed by hand, with
/// ordinary tools. Reads lines in this format and in the ones before it (objects as escaped strings; without the
/// Segment spec's fields, which are then null).
/// </summary>
/// <remarks>
/// A line is read in one pass of a <see cref="Utf8JsonReader"/> over its bytes, each field taken as its name comes:
/// no copy of the line, no document, no lookup of each field by name, and an object field's bytes copied once. The
/// loader decodes every stream message this way (the spill's replay and the write-ahead log's recovery too), and a
/// <see cref="JsonDocument"/> of a copy of the line, searched for each of 18 names, was a sixth of its CPU time. A name
/// given twice counts as its last value, as a <see cref="JsonDocument"/>'s lookup took it; each is held to its kind.
/// </remarks>
internal static class SpillFormat
{
    /// <summary>The names of the fields, in the order of <see cref="LineField"/>.</summary>
    private static readonly byte[][] Fields =
    [
        "messageId"u8.ToArray(), "type"u8.ToArray(), "event"u8.ToArray(), "userId"u8.ToArray(), "anonymousId"u8.ToArray(),
        "timestamp"u8.ToArray(), "sentAt"u8.ToArray(), "receivedAt"u8.ToArray(), "source"u8.ToArray(), "properties"u8.ToArray(),
        "traits"u8.ToArray(), "context"u8.ToArray(), "name"u8.ToArray(), "category"u8.ToArray(), "groupId"u8.ToArray(),
        "previousId"u8.ToArray(), "originalTimestamp"u8.ToArray(), "integrations"u8.ToArray(), "rejected"u8.ToArray(),
    ];

    /// <summary>Writes one event as its line (<see cref="EventLine"/>).</summary>
    public static void Write(IBufferWriter<byte> output, TrackedEvent e) => EventLine.Write(output, e);

    /// <summary>Reads one line back; null when it is not a complete, valid event (a torn or corrupt line).</summary>
    public static TrackedEvent? Read(ReadOnlySpan<byte> line)
    {
        try
        {
            return ReadObject(line);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private static TrackedEvent? ReadObject(ReadOnlySpan<byte> line)
    {
        var json = new Utf8JsonReader(line);
        if (!json.Read() || json.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        string? messageId = null, name = null, eventName = null, userId = null, anonymousId = null, category = null, groupId = null, previousId = null, source = null;
        EventType? type = null;
        DateTimeOffset? timestamp = null, sentAt = null, receivedAt = null, originalTimestamp = null;
        JsonText? properties = null, traits = null, context = null, integrations = null;
        EventRejection? rejection = null;
        while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
        {
            var field = Field(ref json);
            json.Read();
            switch (field)
            {
                case LineField.MessageId: messageId = json.GetString(); break;
                case LineField.Type: type = Type(ref json); break;
                case LineField.Event: eventName = json.GetString(); break;
                case LineField.UserId: userId = json.GetString(); break;
                case LineField.AnonymousId: anonymousId = json.GetString(); break;
                case LineField.Timestamp: timestamp = json.GetDateTimeOffset(); break;
                case LineField.SentAt: sentAt = json.GetDateTimeOffset(); break;
                case LineField.ReceivedAt: receivedAt = json.GetDateTimeOffset(); break;
                case LineField.Source: source = json.GetString(); break;
                case LineField.Properties: properties = Raw(ref json, line); break;
                case LineField.Traits: traits = Raw(ref json, line); break;
                case LineField.Context: context = Raw(ref json, line); break;
                case LineField.Name: name = json.GetString(); break;
                case LineField.Category: category = json.GetString(); break;
                case LineField.GroupId: groupId = json.GetString(); break;
                case LineField.PreviousId: previousId = json.GetString(); break;
                case LineField.OriginalTimestamp: originalTimestamp = json.GetDateTimeOffset(); break;
                case LineField.Integrations: integrations = Raw(ref json, line); break;
                case LineField.Rejected: rejection = Rejection(ref json); break;
                default: json.Skip(); break;
            }
        }

        // The object's end, and nothing after it but whitespace (the reader throws on anything else).
        if (json.TokenType != JsonTokenType.EndObject || json.Read() || type is not { } t || messageId is not { Length: > 0 } || receivedAt is not { } received)
        {
            return null;
        }

        return new TrackedEvent(messageId, t, eventName, userId, anonymousId, timestamp, sentAt, received, properties, traits, context)
        {
            Name = name,
            Category = category,
            GroupId = groupId,
            PreviousId = previousId,
            OriginalTimestamp = originalTimestamp,
            Integrations = integrations,
            Source = source,
            Rejection = rejection,
        };
    }

    /// <summary>The field a property name stands for; <see cref="LineField.None"/> for a name of no field (skipped).</summary>
    private static LineField Field(ref Utf8JsonReader json)
    {
        for (var i = 0; i < Fields.Length; i++)
        {
            if (json.ValueTextEquals(Fields[i]))
            {
                return (LineField)i;
            }
        }

        return LineField.None;
    }

    /// <summary>The type's wire name, exactly (<see cref="EventTypeNames.TryParse(ReadOnlySpan{byte}, out EventType)"/>), read without making a string of it.</summary>
    private static EventType? Type(ref Utf8JsonReader json)
    {
        if (json.TokenType != JsonTokenType.String)
        {
            return json.TokenType == JsonTokenType.Null ? null : throw new FormatException("type must be a string.");
        }

        var known = json.ValueIsEscaped ? EventTypeNames.TryParse(json.GetString()!, out var type) : EventTypeNames.TryParse(json.ValueSpan, out type);
        return known ? type : null;
    }

    /// <summary>
    /// An object field: the client's object, byte for byte as it stands in the line, or its text in a string (an
    /// older line, or one whose object spans lines), unescaped.
    /// </summary>
    private static JsonText Raw(ref Utf8JsonReader json, ReadOnlySpan<byte> line)
    {
        switch (json.TokenType)
        {
            case JsonTokenType.StartObject:
                var start = (int)json.TokenStartIndex;
                json.Skip();
                return new JsonText(line[start..(int)json.BytesConsumed].ToArray());
            case JsonTokenType.String when !json.ValueIsEscaped:
                // As a string's text it must be valid UTF-8, as decoding it to a string required.
                return Utf8.IsValid(json.ValueSpan) ? new JsonText(json.ValueSpan.ToArray()) : throw new FormatException("Invalid UTF-8 in an object's text.");
            case JsonTokenType.String:
                return new JsonText(Encoding.UTF8.GetBytes(json.GetString()!));
            default:
                throw new FormatException("An object field must be a JSON object or its text.");
        }
    }

    /// <summary>What the client sent for an event the intake refused: an object of <c>raw</c>, <c>reason</c> and, optionally, <c>field</c>.</summary>
    private static EventRejection Rejection(ref Utf8JsonReader json)
    {
        if (json.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatException("rejected must be an object.");
        }

        string? raw = null, reason = null, field = null;
        bool hasRaw = false, hasReason = false;
        while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
        {
            var which = json.ValueTextEquals("raw"u8) ? 0 : json.ValueTextEquals("reason"u8) ? 1 : json.ValueTextEquals("field"u8) ? 2 : -1;
            json.Read();
            switch (which)
            {
                case 0: raw = json.GetString(); hasRaw = true; break;
                case 1: reason = json.GetString(); hasReason = true; break;
                case 2: field = json.GetString(); break;
                default: json.Skip(); break;
            }
        }

        return hasRaw && hasReason ? new EventRejection(raw!, reason!, field) : throw new FormatException("rejected needs its raw and its reason.");
    }

    /// <summary>The fields of a line, numbered as <see cref="Fields"/> holds their names.</summary>
    private enum LineField
    {
        None = -1,
        MessageId, Type, Event, UserId, AnonymousId, Timestamp, SentAt, ReceivedAt, Source, Properties,
        Traits, Context, Name, Category, GroupId, PreviousId, OriginalTimestamp, Integrations, Rejected,
    }
}
