using System.Text.Json;
using TrackerService.Events;

namespace TrackerService.Api;

/// <summary>
/// Reads a Segment tracking API body: a batch envelope (<c>{"batch": [...], "sentAt", "context", "integrations",
/// "writeKey"}</c>) or a single call's event, whose type is the path's. Unlike <see cref="EventBatchParser"/>, an invalid
/// event does not cost the others: SDKs never retry a 400, so each one is kept aside, with why, for the dead-letter table.
/// Only a body that is not JSON, not an envelope or over the limits is refused whole.
/// </summary>
internal sealed class SegmentBatchParser(ApiOptions limits, TimeProvider time)
{
    private const string TrailingContent = "Unexpected content after the JSON value.";

    private static readonly JsonReaderOptions OuterReader = new() { MaxDepth = 64 };

    /// <param name="callType">The single call's type (<c>/v1/track</c>), or null for a batch.</param>
    public SegmentParseResult Parse(ReadOnlySpan<byte> body, EventType? callType)
    {
        var receivedAt = time.GetUtcNow();
        try
        {
            return callType is { } type ? ParseCall(body, type, receivedAt) : ParseBatch(body, receivedAt);
        }
        catch (JsonException ex)
        {
            return SegmentParseResult.MalformedBody($"The body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).");
        }
        catch (InvalidOperationException)
        {
            // An envelope field name that is not text (an unpaired surrogate escape, invalid UTF-8): no field can be told.
            return SegmentParseResult.MalformedBody("The envelope's field names must be valid UTF-8 text without unpaired surrogates.");
        }
    }

    private SegmentParseResult ParseCall(ReadOnlySpan<byte> body, EventType type, DateTimeOffset receivedAt)
    {
        var reader = new Utf8JsonReader(body, OuterReader);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return SegmentParseResult.MalformedBody("The body must be the call's JSON object.");
        }

        string? writeKey = null;
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("writeKey"u8))
            {
                reader.Read();
                writeKey = ReadKey(ref reader);
            }
        }

        if (reader.Read())
        {
            return SegmentParseResult.MalformedBody(TrailingContent);
        }

        var e = SegmentEventReader.Read(body, limits.MaxEventBytes, 0, EventRules.SegmentCall(type), receivedAt, out var rejected);
        return new SegmentParseResult { Events = [e], Rejected = rejected ? 1 : 0, WriteKey = writeKey };
    }

    private SegmentParseResult ParseBatch(ReadOnlySpan<byte> body, DateTimeOffset receivedAt)
    {
        var reader = new Utf8JsonReader(body, OuterReader);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return SegmentParseResult.MalformedBody("The body must be a JSON object with a \"batch\" array of events.");
        }

        var spans = new List<(int Start, int Length)>();
        var envelope = new List<EventError>();
        string? writeKey = null;
        DateTimeOffset? sentAt = null;
        JsonText? context = null, integrations = null;
        var hasBatch = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = reader.ValueTextEquals("batch"u8) ? "batch"
                : reader.ValueTextEquals("sentAt"u8) ? "sentAt"
                : reader.ValueTextEquals("context"u8) ? "context"
                : reader.ValueTextEquals("integrations"u8) ? "integrations"
                : reader.ValueTextEquals("writeKey"u8) ? "writeKey"
                : null;
            reader.Read();
            switch (field)
            {
                case "batch":
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        return SegmentParseResult.MalformedBody("\"batch\" must be an array of events.");
                    }

                    hasBatch = true;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (spans.Count == limits.MaxSegmentBatchEvents)
                        {
                            return SegmentParseResult.TooLargeBody($"A batch may carry at most {limits.MaxSegmentBatchEvents} events.");
                        }

                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        spans.Add((start, (int)reader.BytesConsumed - start));
                    }

                    break;
                case "sentAt": sentAt = EventFields.ReadTime(ref reader, -1, field, envelope); break;
                case "context": context = EventFields.ReadObject(body, ref reader, -1, field, envelope); break;
                case "integrations": integrations = EventFields.ReadObject(body, ref reader, -1, field, envelope); break;
                case "writeKey": writeKey = ReadKey(ref reader); break;
                default: reader.Skip(); break; // _metadata, anything else an SDK sends
            }
        }

        if (reader.Read())
        {
            return SegmentParseResult.MalformedBody(TrailingContent);
        }

        if (envelope is [var error, ..])
        {
            return SegmentParseResult.MalformedBody($"The envelope's {error.Field}: {error.Message}");
        }

        if (!hasBatch)
        {
            return SegmentParseResult.MalformedBody("The body must be a JSON object with a \"batch\" array of events.");
        }

        var events = new TrackedEvent[spans.Count];
        var rejected = 0;
        for (var i = 0; i < spans.Count; i++)
        {
            events[i] = SegmentEventReader.Read(body.Slice(spans[i].Start, spans[i].Length), limits.MaxEventBytes, i, EventRules.SegmentBatch, receivedAt, out var refused);
            rejected += refused ? 1 : 0;
        }

        return new SegmentParseResult
        {
            Events = events, Rejected = rejected, WriteKey = writeKey, SentAt = sentAt, Context = context, Integrations = integrations,
        };
    }

    /// <summary>A <c>writeKey</c> field's value: a string that is text, else none (the value skipped).</summary>
    private static string? ReadKey(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return EventFields.IsStorableString(ref reader, needValue: true, out var key) ? key : null;
        }

        reader.Skip();
        return null;
    }
}
