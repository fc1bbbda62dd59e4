using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TrackerService.Events;

namespace TrackerService.Spill;

/// <summary>
/// One event per line of JSON, with the same field names as the API, so a segment can be read (and if
/// need be replayed by hand) with ordinary tools. Object fields are written back as the client's raw JSON.
/// </summary>
internal static class SpillFormat
{
    public static void Write(IBufferWriter<byte> output, TrackedEvent e)
    {
        using var json = new Utf8JsonWriter(output);
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
    /// The client's JSON text goes in as a string: written raw, a pretty-printed object would break the line
    /// in two, and re-serializing it would change what is stored.
    /// </summary>
    private static void WriteRaw(Utf8JsonWriter json, string name, JsonText? rawJson)
    {
        if (rawJson is not null)
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
