using System.Globalization;
using CsCheck;
using TrackerService.Events;

namespace TrackerService.Tests.Api;

/// <summary>A generated JSON object whose members' names are unique (decoded): each member's name, its key as written, its value's text.</summary>
internal sealed record GenObject(IReadOnlyList<(string Name, string Key, string Value)> Members)
{
    public string Json => "{" + string.Join(",", Members.Select(m => m.Key + ":" + m.Value)) + "}";
}

/// <summary>A generated valid Segment event: its fields as written (in their order) and what each must be read as.</summary>
internal sealed record GenEvent(EventType Type, IReadOnlyList<(string Key, string Json)> Fields)
{
    public string? MessageId { get; init; }

    public string? UserId { get; init; }

    public string? AnonymousId { get; init; }

    public string? Event { get; init; }

    public string? Name { get; init; }

    public string? Category { get; init; }

    public string? GroupId { get; init; }

    public string? PreviousId { get; init; }

    public DateTimeOffset? Timestamp { get; init; }

    public DateTimeOffset? SentAt { get; init; }

    public DateTimeOffset? OriginalTimestamp { get; init; }

    public GenObject? Properties { get; init; }

    public GenObject? Traits { get; init; }

    public GenObject? Context { get; init; }

    public GenObject? Integrations { get; init; }

    public string Json => Object(Fields);

    public static string Object(IEnumerable<(string Key, string Json)> fields) =>
        "{" + string.Join(",", fields.Select(f => SegmentJsonGen.Literal(f.Key, raw: true) + ":" + f.Json)) + "}";

    /// <summary>The same event with the string <paramref name="id"/> as its messageId.</summary>
    public GenEvent WithMessageId(string id) =>
        this with { MessageId = id, Fields = [.. Fields.Where(f => f.Key != "messageId"), ("messageId", SegmentJsonGen.Literal(id, raw: false))] };
}

/// <summary>CsCheck generators of valid Segment events (all six types, their required fields, the spec's optional ones) and of objects.</summary>
internal static class SegmentEventGen
{
    /// <summary>Names an envelope's and an event's context share, so that merging has something to decide.</summary>
    private static readonly string[] Names = ["library", "page", "locale", "ip", "os", "app", "a", "é"];

    /// <summary>An object whose members are drawn from <see cref="Names"/>, each key written plain or \u-escaped.</summary>
    public static readonly Gen<GenObject> Object = Gen.Select(Gen.Bool.Array[Names.Length], Gen.Bool.Array[Names.Length], SegmentJsonGen.StorableValue.Array[Names.Length],
        (has, escaped, values) => new GenObject([.. Names.Select((n, i) => (n, i)).Where(x => has[x.i])
            .Select(x => (x.n, escaped[x.i] ? "\"" + string.Concat(x.n.Select(c => $"\\u{(int)c:x4}")) + "\"" : $"\"{x.n}\"", values[x.i]))]));

    /// <summary>A time within this century as ISO-8601 text, in UTC or at an offset, with 0 to 7 fraction digits.</summary>
    public static readonly Gen<(DateTimeOffset Value, string Json)> Time = Gen.Select(
        Gen.Long[new DateTime(2000, 1, 1).Ticks, new DateTime(2100, 1, 1).Ticks], Gen.Int[-14 * 4, 14 * 4], Gen.Int[0, 7], (ticks, quarters, digits) =>
        {
            var value = new DateTimeOffset(new DateTime(ticks - (ticks % (long)Math.Pow(10, 7 - digits))), TimeSpan.FromMinutes(quarters * 15));
            var format = "yyyy-MM-dd'T'HH:mm:ss" + (digits > 0 ? "." + new string('f', digits) : "") + (quarters == 0 ? "'Z'" : "zzz");
            return (value, "\"" + value.ToString(format, CultureInfo.InvariantCulture) + "\"");
        });

    /// <summary>An id sent as a string (the decoded text is the id) or, on the Segment API, as a number (its text is).</summary>
    public static readonly Gen<(string Value, string Json)> Id = Gen.Frequency(
        (3, Gen.Select(SegmentJsonGen.Text.Where(t => !string.IsNullOrWhiteSpace(t)), Gen.Bool, (t, raw) => (t, SegmentJsonGen.Literal(t, raw)))),
        (1, Gen.Frequency((3, Gen.Long.Select(n => n.ToString(CultureInfo.InvariantCulture))), (1, Gen.OneOf("0", "-0", "1.5", "1e3", "-12.250", "1E-7", "123456789012345678901234567890")))
            .Select(n => (n, n))));

    private static readonly Gen<(string Value, string Json)> StringId = Gen.Select(
        SegmentJsonGen.Text.Where(t => !string.IsNullOrWhiteSpace(t)), Gen.Bool, (t, raw) => (t, SegmentJsonGen.Literal(t, raw)));

    private static readonly Gen<(string Value, string Json)> Name = Gen.Select(SegmentJsonGen.Text, Gen.Bool, (t, raw) => (t, SegmentJsonGen.Literal(t, raw)));

    private static readonly Gen<(string Key, string Json)[]> Extras = Gen.OneOf(
        ("receivedAt", "\"1999-01-01T00:00:00Z\""), ("source", "\"forged\""), ("_metadata", "{\"bundled\":[]}"), ("version", "2"), ("options", "null"))
        .Array[0, 2];

    /// <summary>A valid event of any type, with its fields in any order.</summary>
    public static readonly Gen<GenEvent> Valid =
        from type in Gen.OneOf(Enum.GetValues<EventType>())
        from ids in Gen.Select(Id.Nullable(type == EventType.Alias ? 0 : 0.4), Id.Nullable(0.5), Id.Nullable(0.2), StringId.Nullable(type == EventType.Track ? 0 : 0.7))
        from spec in Gen.Select(Name.Nullable(0.6), Name.Nullable(0.7), Id.Nullable(type == EventType.Group ? 0 : 0.8), Id.Nullable(type == EventType.Alias ? 0 : 0.8))
        from times in Gen.Select(Time.Nullable(0.3), Time.Nullable(0.5), Time.Nullable(0.6))
        from objects in Gen.Select(Object.Null(0.3), Object.Null(0.6), Object.Null(0.3), Object.Null(0.5))
        from extras in Extras
        from order in Gen.Int[0, int.MaxValue]
        let anonymous = ids.Item1 is null && ids.Item2 is null ? ("anon", "\"anon\"") : ids.Item2
        select Build(type, ids.Item1, anonymous, ids.Item3, ids.Item4, spec, times, objects, extras, order);

    private static GenEvent Build(
        EventType type, (string Value, string Json)? userId, (string Value, string Json)? anonymousId, (string Value, string Json)? messageId,
        (string Value, string Json)? eventName,
        ((string Value, string Json)? Name, (string Value, string Json)? Category, (string Value, string Json)? GroupId, (string Value, string Json)? PreviousId) spec,
        ((DateTimeOffset Value, string Json)? Timestamp, (DateTimeOffset Value, string Json)? SentAt, (DateTimeOffset Value, string Json)? Original) times,
        (GenObject? Properties, GenObject? Traits, GenObject? Context, GenObject? Integrations) objects,
        (string Key, string Json)[] extras, int order)
    {
        var fields = new List<(string Key, string Json)> { ("type", $"\"{type.ToWireName()}\"") };
        void Add(string key, string? json)
        {
            if (json is not null)
            {
                fields.Add((key, json));
            }
        }

        Add("userId", userId?.Json);
        Add("anonymousId", anonymousId?.Json);
        Add("messageId", messageId?.Json);
        Add("event", eventName?.Json);
        Add("name", spec.Name?.Json);
        Add("category", spec.Category?.Json);
        Add("groupId", spec.GroupId?.Json);
        Add("previousId", spec.PreviousId?.Json);
        Add("timestamp", times.Timestamp?.Json);
        Add("sentAt", times.SentAt?.Json);
        Add("originalTimestamp", times.Original?.Json);
        Add("properties", objects.Properties?.Json);
        Add("traits", objects.Traits?.Json);
        Add("context", objects.Context?.Json);
        Add("integrations", objects.Integrations?.Json);
        fields.AddRange(extras.DistinctBy(e => e.Key));
        var shuffled = fields.OrderBy(f => f.Key.Aggregate(order, (h, c) => unchecked((h * 31) + c))).ToList(); // deterministic, for CsCheck's seeds
        return new GenEvent(type, shuffled)
        {
            UserId = userId?.Value, AnonymousId = anonymousId?.Value, MessageId = messageId?.Value, Event = eventName?.Value,
            Name = spec.Name?.Value, Category = spec.Category?.Value, GroupId = spec.GroupId?.Value, PreviousId = spec.PreviousId?.Value,
            Timestamp = times.Timestamp?.Value, SentAt = times.SentAt?.Value, OriginalTimestamp = times.Original?.Value,
            Properties = objects.Properties, Traits = objects.Traits, Context = objects.Context, Integrations = objects.Integrations,
        };
    }
}
