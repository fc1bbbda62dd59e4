using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using TrackerService.Events;

namespace TrackerService.Spill;

/// <summary>
/// One event per line of JSON, with the same field names as the API, so a segment can be read (and if
/// need be replayed by hand) with ordinary tools. Object fields are written as the client's JSON object, byte for
/// byte, when it is on one line, else as its text in a string (see <see cref="WriteRaw"/>).
/// </summary>
/// <remarks>
/// The relaxed encoder writes <c>"</c>, <c>&lt;</c>, <c>+</c> and non-ASCII text as themselves: the default one, made
/// for HTML pages, writes each as <c>\u0022</c> and the like, which made a spilled event of short properties 2.3
/// times its input (docs/performance.md). A spill file is never embedded in a page. Segments written before, with
/// the default encoder and every object as a string, still read the same.
/// </remarks>
internal static class SpillFormat
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    public static void Write(IBufferWriter<byte> output, TrackedEvent e)
    {
        using var json = new Utf8JsonWriter(output, WriterOptions);
        json.WriteStartObject();
        json.WriteString("messageId", e.MessageId);
        json.WriteString("type", e.Type.ToWireName());
        WriteOptional(json, "event", e.Event);
        WriteOptional(json, "userId", e.UserId);
        WriteOptional(json, "anonymousId", e.AnonymousId);
        if (e.Timestamp is { } timestamp)
        {
            json.WriteString("timestamp", timestamp);
        }

        if (e.SentAt is { } sentAt)
        {
            json.WriteString("sentAt", sentAt);
        }

        json.WriteString("receivedAt", e.ReceivedAt);
        WriteRaw(json, "properties", e.Properties);
        WriteRaw(json, "traits", e.Traits);
        WriteRaw(json, "context", e.Context);
        json.WriteEndObject();
        json.Flush();
        output.Write("\n"u8);
    }

    /// <summary>Reads one line back; null when it is not a complete, valid event (a torn or corrupt line).</summary>
    public static TrackedEvent? Read(ReadOnlySpan<byte> line)
    {
        try
        {
            using var document = JsonDocument.Parse(line.ToArray());
            var root = document.RootElement;
            if (!EventTypeNames.TryParse(root.GetProperty("type").GetString()!, out var type))
            {
                return null;
            }

            if (root.GetProperty("messageId").GetString() is not { Length: > 0 } messageId)
            {
                return null;
            }

            return new TrackedEvent(
                messageId,
                type,
                OptionalString(root, "event"),
                OptionalString(root, "userId"),
                OptionalString(root, "anonymousId"),
                root.TryGetProperty("timestamp", out var timestamp) ? timestamp.GetDateTimeOffset() : null,
                root.TryGetProperty("sentAt", out var sentAt) ? sentAt.GetDateTimeOffset() : null,
                root.GetProperty("receivedAt").GetDateTimeOffset(),
                OptionalRaw(root, "properties"),
                OptionalRaw(root, "traits"),
                OptionalRaw(root, "context"));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
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
    private static void WriteRaw(Utf8JsonWriter json, string name, JsonText? rawJson)
    {
        if (rawJson is null)
        {
            return;
        }

        if (rawJson.Utf8.IndexOfAny((byte)'\n', (byte)'\r') < 0)
        {
            json.WritePropertyName(name);
            json.WriteRawValue(rawJson.Utf8, skipInputValidation: true);
        }
        else
        {
            json.WriteString(name, rawJson.Utf8);
        }
    }

    private static string? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.GetString() : null;

    /// <summary>An object field: the client's text as a string, or (in a line written by hand) an object.</summary>
    private static JsonText? OptionalRaw(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var value) ? null
        : value.ValueKind == JsonValueKind.String ? new JsonText(Encoding.UTF8.GetBytes(value.GetString()!))
        : value.ValueKind == JsonValueKind.Object ? new JsonText(JsonMarshal.GetRawUtf8Value(value).ToArray())
        : throw new FormatException($"{name} must be a JSON object or its text.");
}
