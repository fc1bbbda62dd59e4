namespace TrackerService.Events;

/// <summary>The Segment tracking-spec call types.</summary>
internal enum EventType
{
    Track,
    Identify,
    Page,
    Screen,
    Group,
    Alias,
}

internal static class EventTypeNames
{
    /// <summary>The wire (and stored) name of a type: lower case, as in the Segment spec.</summary>
    public static string ToWireName(this EventType type) => type switch
    {
        EventType.Track => "track",
        EventType.Identify => "identify",
        EventType.Page => "page",
        EventType.Screen => "screen",
        EventType.Group => "group",
        EventType.Alias => "alias",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Every type with its wire name in UTF-8: for readers that parse names from bytes.</summary>
    private static readonly (byte[] Name, EventType Type)[] Utf8Names =
        [.. Enum.GetValues<EventType>().Select(t => (System.Text.Encoding.UTF8.GetBytes(t.ToWireName()), t))];

    /// <summary>As <see cref="TryParse(string, out EventType)"/>, for a name in UTF-8 bytes (unescaped), read without making a string of it.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Name, out EventType type)
    {
        foreach (var (name, candidate) in Utf8Names)
        {
            if (utf8Name.SequenceEqual(name))
            {
                type = candidate;
                return true;
            }
        }

        type = default;
        return false;
    }

    public static bool TryParse(string name, out EventType type)
    {
        // Exact, case-sensitive names: the spec's values are lower case and a store keyed on
        // type should not hold "Track" and "track" as different things.
        switch (name)
        {
            case "track": type = EventType.Track; return true;
            case "identify": type = EventType.Identify; return true;
            case "page": type = EventType.Page; return true;
            case "screen": type = EventType.Screen; return true;
            case "group": type = EventType.Group; return true;
            case "alias": type = EventType.Alias; return true;
            default: type = default; return false;
        }
    }
}
