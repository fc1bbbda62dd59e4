using System.Buffers;
using System.Text;
using System.Text.Json;
using TrackerService.Events;

namespace TrackerService.Sinks;

/// <summary>
/// An event as one JSON object, as the dead-letter table keeps it (<see cref="RejectedEvent.Raw"/>): the API's field
/// names, the object fields as the client's JSON text in strings, exactly as a spill line holds it (a test keeps the
/// two the same), so a refused event can be read, mended and replayed with the same tools.
/// </summary>
/// <remarks>Written here rather than borrowed from the spill: the spill uses the store, and the arrows point one way.</remarks>
internal static class EventAsJson
{
    public static string Write(TrackedEvent e)
    {
        var output = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(output))
        {
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
            WriteText(json, "properties", e.Properties);
            WriteText(json, "traits", e.Traits);
            WriteText(json, "context", e.Context);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteText(Utf8JsonWriter json, string name, JsonText? text)
    {
        if (text is not null)
        {
            json.WriteString(name, text.Utf8);
        }
    }
}
