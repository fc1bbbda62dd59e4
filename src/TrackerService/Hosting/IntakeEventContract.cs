using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using TrackerService.Api;
using TrackerService.Events;
using TrackerService.Spill;

namespace TrackerService.Hosting;

/// <summary>
/// The intake's rules (<see cref="EventReader"/>, <see cref="EventFields"/>) for spill replay: the event is written
/// back as the JSON object a client would send and read as the API reads it, so a spilled line is held to exactly
/// what a request is.
/// </summary>
internal sealed class IntakeEventContract : IEventContract
{
    private static readonly JsonWriterOptions Writer = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    public EventFault? Check(TrackedEvent e)
    {
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json, Writer))
        {
            writer.WriteStartObject();
            writer.WriteString("messageId", e.MessageId);
            writer.WriteString("type", e.Type.ToWireName());
            Optional(writer, "event", e.Event);
            Optional(writer, "userId", e.UserId);
            Optional(writer, "anonymousId", e.AnonymousId);
            if (e.Timestamp is { } timestamp)
            {
                writer.WriteString("timestamp", timestamp);
            }

            if (e.SentAt is { } sentAt)
            {
                writer.WriteString("sentAt", sentAt);
            }

            Object(writer, "properties", e.Properties);
            Object(writer, "traits", e.Traits);
            Object(writer, "context", e.Context);
            writer.WriteEndObject();
        }

        var errors = new List<EventError>();
        EventReader.Read(json.WrittenSpan, 0, e.ReceivedAt, errors);
        return errors is [var first, ..] ? new EventFault(first.Field, first.Message) : null;
    }

    private static void Optional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static void Object(Utf8JsonWriter writer, string name, JsonText? value)
    {
        if (value is not null)
        {
            writer.WritePropertyName(name);
            writer.WriteRawValue(value.Utf8, skipInputValidation: true);
        }
    }
}
