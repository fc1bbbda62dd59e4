using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace TrackerService.Events;

/// <summary>
/// An event as one line of JSON, with the same field names as the API: the spill's format, and the raw text the
/// dead-letter table keeps, so an event can be read, mended and replayed with ordinary tools. Object fields are
/// written as the client's JSON object, byte for byte, when it is on one line, else as its text in a string (see
/// <see cref="WriteRaw"/>).
/// </summary>
/// <remarks>
/// The relaxed encoder writes <c>"</c>, <c>&lt;</c>, <c>+</c> and non-ASCII text as themselves: the default one, made
/// for HTML pages, writes each as <c>\u0022</c> and the like, which made a spilled event of short properties 2.3
/// times its input (docs/performance.md). A spill file is never embedded in a page. Spill segments written before, with
/// the default encoder and every object as a string, still read the same.
/// </remarks>
internal static class EventLine
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    /// <summary>The event as its line, without the line break.</summary>
    public static string ToJson(TrackedEvent e)
    {
        var output = new ArrayBufferWriter<byte>(256);
        Write(output, e);
        return Encoding.UTF8.GetString(output.WrittenSpan[..^1]);
    }

    /// <summary>Writes the event and a line break.</summary>
    public static void Write(IBufferWriter<byte> output, TrackedEvent e)
    {
        WriteObject(output, e, asRequest: false);
        output.Write("\n"u8);
    }

    /// <summary>
    /// Writes the event as the JSON object a client sends for it: without <c>receivedAt</c> and <c>source</c> (the server's to set), and every object field
    /// as its JSON, line breaks and all. What spill replay holds to the intake's rules.
    /// </summary>
    public static void WriteRequest(IBufferWriter<byte> output, TrackedEvent e) => WriteObject(output, e, asRequest: true);

    private static void WriteObject(IBufferWriter<byte> output, TrackedEvent e, bool asRequest)
    {
        using var json = new Utf8JsonWriter(output, WriterOptions);
        json.WriteStartObject();
        json.WriteString("messageId", e.MessageId);
        json.WriteString("type", e.Type.ToWireName());
        WriteOptional(json, "event", e.Event);
        WriteOptional(json, "name", e.Name);
        WriteOptional(json, "category", e.Category);
        WriteOptional(json, "userId", e.UserId);
        WriteOptional(json, "anonymousId", e.AnonymousId);
        WriteOptional(json, "groupId", e.GroupId);
        WriteOptional(json, "previousId", e.PreviousId);
        WriteTime(json, "timestamp", e.Timestamp);
        WriteTime(json, "originalTimestamp", e.OriginalTimestamp);
        WriteTime(json, "sentAt", e.SentAt);
        if (!asRequest)
        {
            json.WriteString("receivedAt", e.ReceivedAt);
            WriteOptional(json, "source", e.Source);
        }

        WriteRaw(json, "properties", e.Properties, asRequest);
        WriteRaw(json, "traits", e.Traits, asRequest);
        WriteRaw(json, "context", e.Context, asRequest);
        WriteRaw(json, "integrations", e.Integrations, asRequest);
        if (!asRequest && e.Rejection is { } rejection)
        {
            // What the client sent goes in as a string: it broke the contract, so it is not held to be one line of anything.
            json.WriteStartObject("rejected");
            json.WriteString("reason", rejection.Reason);
            WriteOptional(json, "field", rejection.Field);
            json.WriteString("raw", rejection.Raw);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } time)
        {
            json.WriteString(name, time);
        }
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>
    /// The client's JSON object goes in as it came, unescaped, when it holds no line break: the intake checked it is
    /// one JSON object, and valid JSON holds a line break only as whitespace between tokens (inside a string it is
    /// escaped). A pretty-printed object would break the line in two, so it goes in as a string instead, and
    /// re-serializing it would change what is stored.
    /// </summary>
    /// <param name="anyLines">Not for a line: the object goes in as it came even when pretty-printed.</param>
    private static void WriteRaw(Utf8JsonWriter json, string name, JsonText? rawJson, bool anyLines)
    {
        if (rawJson is null)
        {
            return;
        }

        if (anyLines || rawJson.Utf8.IndexOfAny((byte)'\n', (byte)'\r') < 0)
        {
            json.WritePropertyName(name);
            json.WriteRawValue(rawJson.Utf8, skipInputValidation: true);
        }
        else
        {
            json.WriteString(name, rawJson.Utf8);
        }
    }
}
