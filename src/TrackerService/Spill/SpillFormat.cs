using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TrackerService.Events;

namespace TrackerService.Spill;

/// <summary>
/// One event per line (<see cref="EventLine"/>), so a segment can be read, and if need be replayed by hand, with
/// ordinary tools. Reads lines in this format and in the ones before it (objects as escaped strings; without the
/// Segment spec's fields, which are then null).
/// </summary>
internal static class SpillFormat
{
    /// <summary>Writes one event as its line (<see cref="EventLine"/>).</summary>
    public static void Write(IBufferWriter<byte> output, TrackedEvent e) => EventLine.Write(output, e);

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
                OptionalTime(root, "timestamp"),
                OptionalTime(root, "sentAt"),
                root.GetProperty("receivedAt").GetDateTimeOffset(),
                OptionalRaw(root, "properties"),
                OptionalRaw(root, "traits"),
                OptionalRaw(root, "context"))
            {
                Name = OptionalString(root, "name"),
                Category = OptionalString(root, "category"),
                GroupId = OptionalString(root, "groupId"),
                PreviousId = OptionalString(root, "previousId"),
                OriginalTimestamp = OptionalTime(root, "originalTimestamp"),
                Integrations = OptionalRaw(root, "integrations"),
                Source = OptionalString(root, "source"),
                Rejection = root.TryGetProperty("rejected", out var rejected)
                    ? new EventRejection(rejected.GetProperty("raw").GetString()!, rejected.GetProperty("reason").GetString()!, OptionalString(rejected, "field"))
                    : null,
            };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private static DateTimeOffset? OptionalTime(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.GetDateTimeOffset() : null;

    private static string? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.GetString() : null;

    /// <summary>An object field: the client's text as a string, or (in a line written by hand) an object.</summary>
    private static JsonText? OptionalRaw(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var value) ? null
        : value.ValueKind == JsonValueKind.String ? new JsonText(Encoding.UTF8.GetBytes(value.GetString()!))
        : value.ValueKind == JsonValueKind.Object ? new JsonText(JsonMarshal.GetRawUtf8Value(value).ToArray())
        : throw new FormatException($"{name} must be a JSON object or its text.");
}
