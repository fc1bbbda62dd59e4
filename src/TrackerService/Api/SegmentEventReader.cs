using System.Diagnostics;
using System.Text;
using System.Text.Json;
using TrackerService.Events;

namespace TrackerService.Api;

/// <summary>
/// One event of a Segment API request: read by <see cref="EventReader"/> under the Segment rules, or, when it breaks
/// them, turned into a stand-in that carries what the client sent, and why, to the dead-letter table.
/// </summary>
internal static class SegmentEventReader
{
    private static readonly JsonReaderOptions Reader = new() { MaxDepth = 64 };

    /// <summary>The event in <paramref name="json"/>, or, when it breaks the contract, a stand-in that carries it to the dead-letter table.</summary>
    public static TrackedEvent Read(ReadOnlySpan<byte> json, int maxEventBytes, int index, EventRules rules, DateTimeOffset receivedAt, out bool rejected)
    {
        var errors = new List<EventError>(0);
        TrackedEvent? e = null;
        if (json.Length > maxEventBytes)
        {
            errors.Add(new EventError(index, "$", $"The event is {json.Length} bytes; an event may be at most {maxEventBytes} bytes."));
        }
        else if (json[0] != (byte)'{')
        {
            errors.Add(new EventError(index, "$", "An event must be a JSON object."));
        }
        else
        {
            e = EventReader.Read(json, index, receivedAt, errors, rules);
        }

        rejected = e is null;
        if (e is not null)
        {
            return e;
        }

        var reason = string.Join("; ", errors.Select(x => $"{x.Field}: {x.Message}"));
        return new TrackedEvent(RejectedMessageId(json) ?? Guid.CreateVersion7(receivedAt).ToString(), rules.CallType ?? EventType.Track,
            null, null, null, null, null, receivedAt, null, null, null)
        {
            Rejection = new EventRejection(Encoding.UTF8.GetString(json), reason, errors[0].Field),
            Origin = Activity.Current?.Context ?? default,
        };
    }

    /// <summary>An invalid event's own messageId, when it has a usable one: a resent copy is then kept once.</summary>
    private static string? RejectedMessageId(ReadOnlySpan<byte> json)
    {
        try
        {
            return MessageId(json);
        }
        catch (InvalidOperationException)
        {
            return null; // a field name that is not text, which is why the event was refused
        }
    }

    private static string? MessageId(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, Reader);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isId = reader.ValueTextEquals("messageId"u8);
            reader.Read();
            if (isId)
            {
                var errors = new List<EventError>(0);
                return reader.TokenType == JsonTokenType.String ? EventFields.ReadId(ref reader, 0, "messageId", errors) : null;
            }

            reader.Skip();
        }

        return null;
    }
}
