using CsCheck;

namespace TrackerService.Tests.Api;

/// <summary>A generated batch envelope of valid events, and what the envelope gives them all.</summary>
internal sealed record GenBatch(GenEvent[] Events, IReadOnlyList<(string Key, string Json)> Fields)
{
    public DateTimeOffset? SentAt { get; init; }

    public GenObject? Context { get; init; }

    public GenObject? Integrations { get; init; }

    public string Json => GenEvent.Object(Fields);
}

/// <summary>
/// CsCheck generators of Segment batch envelopes (what analytics-node and analytics.js send), of their structural
/// mutations (a field dropped, doubled or of another type, at the envelope or in an event), and of invalid events.
/// </summary>
internal static class SegmentBatchGen
{
    /// <summary>How many ways <see cref="Break"/> has to make an event invalid.</summary>
    public const int Breaks = 19;

    public static Gen<GenBatch> Batch(int maxEvents) =>
        from events in SegmentEventGen.Valid.Array[0, maxEvents]
        from sentAt in SegmentEventGen.Time.Nullable(0.3)
        from context in SegmentEventGen.Object.Null(0.4)
        from integrations in SegmentEventGen.Object.Null(0.5)
        from writeKey in SegmentJsonGen.Text.Null(0.5)
        from order in Gen.Int[0, int.MaxValue]
        select Envelope(events, sentAt, context, integrations, writeKey, order);

    private static GenBatch Envelope(
        GenEvent[] events, (DateTimeOffset Value, string Json)? sentAt, GenObject? context, GenObject? integrations, string? writeKey, int order)
    {
        var fields = new List<(string Key, string Json)> { ("batch", "[" + string.Join(",", events.Select(e => e.Json)) + "]") };
        if (sentAt is { } s)
        {
            fields.Add(("sentAt", s.Json));
        }

        if (context is not null)
        {
            fields.Add(("context", context.Json));
        }

        if (integrations is not null)
        {
            fields.Add(("integrations", integrations.Json));
        }

        if (writeKey is not null)
        {
            fields.Add(("writeKey", SegmentJsonGen.Literal(writeKey, raw: true)));
            fields.Add(("_metadata", "{\"nodeVersion\":\"22.1.0\",\"jsRuntime\":\"node\"}"));
        }

        return new GenBatch(events, [.. fields.OrderBy(f => f.Key.Aggregate(order, (h, c) => unchecked((h * 31) + c)))])
        {
            SentAt = sentAt?.Value, Context = context, Integrations = integrations,
        };
    }

    /// <summary>
    /// A valid envelope with one structural mutation, in the envelope or in one of its events: a field dropped,
    /// doubled, or given another value (any JSON, perhaps invalid).
    /// </summary>
    public static readonly Gen<string> MutatedEnvelope =
        from batch in Batch(6)
        from inEvent in Gen.Bool
        from which in Gen.Int[0, 1000]
        from field in Gen.Int[0, 1000]
        from how in Gen.Int[0, 2]
        from value in Gen.Frequency((3, SegmentJsonGen.Value), (1, SegmentJsonGen.Deep))
        select inEvent && batch.Events.Length > 0
            ? GenEvent.Object(batch.Fields.Select(f => f.Key != "batch" ? f
                : (f.Key, "[" + string.Join(",", batch.Events.Select((e, i) => i == which % batch.Events.Length ? Mutate(e.Fields, field, how, value) : e.Json)) + "]")))
            : Mutate(batch.Fields, field, how, value);

    private static string Mutate(IReadOnlyList<(string Key, string Json)> fields, int field, int how, string value)
    {
        if (fields.Count == 0)
        {
            return "{}";
        }

        var at = field % fields.Count;
        IEnumerable<(string Key, string Json)> mutated = how switch
        {
            0 => fields.Where((_, i) => i != at),
            1 => [.. fields, fields[at]],
            _ => fields.Select((f, i) => i == at ? (f.Key, value) : f),
        };

        // Values may be any text here: written as they are, not through a serializer.
        return "{" + string.Join(",", mutated.Select(f => SegmentJsonGen.Literal(f.Key, raw: true) + ":" + f.Json)) + "}";
    }

    /// <summary>The event made invalid in way <paramref name="how"/> (0 to <see cref="Breaks"/> − 1), as JSON text.</summary>
    public static string Break(GenEvent e, int how)
    {
        var fields = e.Fields.ToList();
        var id = SegmentJsonGen.Literal(e.MessageId ?? "none", raw: false);
        List<(string Key, string Json)> Set(string key, string? json, params string[] drop)
        {
            fields.RemoveAll(f => f.Key == key || drop.Contains(f.Key));
            if (json is not null)
            {
                fields.Add((key, json));
            }

            return fields;
        }

        return how switch
        {
            0 => GenEvent.Object(Set("type", null)),
            1 => GenEvent.Object(Set("type", "\"purchase\"")),
            2 => GenEvent.Object(Set("type", "42")),
            3 => GenEvent.Object(Set("event", "\"  \"")),
            4 => GenEvent.Object(Set("userId", null, "anonymousId")),
            5 => GenEvent.Object(Set("userId", "\"" + new string('u', 201) + "\"")),
            6 => GenEvent.Object(Set("timestamp", "\"yesterday\"")),
            7 => GenEvent.Object(Set("timestamp", "\"2026-01-31\"")),
            8 => GenEvent.Object(Set("timestamp", "\"\\ud800\"")),
            9 => GenEvent.Object(Set("properties", "[1,2]")),
            10 => GenEvent.Object(Set("context", "{\"n\":1e999999}")),
            11 => GenEvent.Object(Set("properties", string.Concat(Enumerable.Repeat("{\"a\":", 33)) + "1" + new string('}', 33))),
            12 => GenEvent.Object(Set("type", "\"group\"", "groupId")),
            13 => GenEvent.Object(Set("type", "\"alias\"", "previousId")),
            14 => "[" + id + "]",
            15 => "{\"\\ud800x\":1," + GenEvent.Object(fields)[1..],
            16 => GenEvent.Object(Set("anonymousId", "\"a\\u0000b\"")),
            17 => GenEvent.Object(Set("sentAt", "12345")),
            _ => GenEvent.Object(Set("type", "\"track\"", "event")),
        };
    }
}
