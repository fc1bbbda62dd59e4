using System.Text;
using System.Text.Json;
using TrackerService.Events;

namespace TrackerService.Api;

/// <summary>The rules of one field of an event: ids, names, times and objects, each refused with the field and why.</summary>
internal static class EventFields
{
    /// <summary>Longest id (userId, anonymousId, messageId) or event name, in characters.</summary>
    public const int MaxIdLength = 200;

    /// <summary>Longest page or screen name or category, in characters.</summary>
    public const int MaxNameLength = 1000;

    public const string NotStorable = "Must be valid UTF-8 text without U+0000 or unpaired surrogates.";

    /// <summary>
    /// Whether the string token can be stored faithfully in every sink: valid UTF-8, no lone surrogate escape,
    /// no U+0000 (which PostgreSQL's text and jsonb refuse). Only escaped strings need decoding to tell.
    /// </summary>
    public static bool IsStorableString(ref Utf8JsonReader reader, bool needValue, out string? value)
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

    public static bool HasError(List<EventError> errors, int from, string field)
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

    public static string? ReadString(ref Utf8JsonReader reader, int index, string field, List<EventError> errors)
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
    public static string? ReadId(ref Utf8JsonReader reader, int index, string field, List<EventError> errors)
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

    /// <summary>A page's or screen's name or category: a string of at most <see cref="MaxNameLength"/> characters, or null.</summary>
    public static string? ReadName(ref Utf8JsonReader reader, int index, string field, List<EventError> errors)
    {
        var value = ReadString(ref reader, index, field, errors);
        if (value is { Length: > MaxNameLength })
        {
            errors.Add(new EventError(index, field, $"Is {value.Length} characters; at most {MaxNameLength} are allowed."));
            return null;
        }

        return value;
    }

    /// <summary>An id sent as a JSON number (SDKs and hand-written clients do), as the number's text: <c>42</c> is <c>"42"</c>.</summary>
    public static string? NumberText(ref Utf8JsonReader reader, int index, string field, List<EventError> errors)
    {
        if (reader.ValueSpan.Length > MaxIdLength)
        {
            errors.Add(new EventError(index, field, $"Is {reader.ValueSpan.Length} characters; at most {MaxIdLength} are allowed."));
            return null;
        }

        return Encoding.ASCII.GetString(reader.ValueSpan); // a number token is ASCII
    }

    /// <summary>A time, by <see cref="EventTime"/>'s rule, or null.</summary>
    public static DateTimeOffset? ReadTime(ref Utf8JsonReader reader, int index, string field, List<EventError> errors)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                var value = EventTime.Read(ref reader, out var error);
                if (error is not null)
                {
                    errors.Add(new EventError(index, field, error));
                }

                return value;
            default:
                reader.Skip();
                errors.Add(new EventError(index, field, EventTime.Invalid));
                return null;
        }
    }

    /// <summary>An object-valued field, kept as the client's own JSON text.</summary>
    public static JsonText? ReadObject(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, int index, string field, List<EventError> errors)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var start = (int)reader.TokenStartIndex;
                var depth = reader.CurrentDepth;
                var storable = true;
                var numbers = true;
                while (reader.Read() && reader.CurrentDepth > depth)
                {
                    if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
                    {
                        storable &= IsStorableString(ref reader, needValue: false, out _);
                    }
                    else if (reader.TokenType == JsonTokenType.Number)
                    {
                        numbers &= StorableNumber.IsStorable(reader.ValueSpan);
                    }
                }

                if (!numbers)
                {
                    errors.Add(new EventError(index, field, StorableNumber.Refused));
                    return null;
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
