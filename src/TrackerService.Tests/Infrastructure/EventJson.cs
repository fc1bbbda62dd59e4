using System.Text;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Event objects as JSON text, for the parser's and the reader's tests.</summary>
internal static class EventJson
{
    /// <summary>A valid track event with nothing but the required fields.</summary>
    public const string Valid = """{"userId":"u1","event":"Signed Up"}""";

    /// <summary>A valid track event with <paramref name="field"/> set (or replaced) to <paramref name="valueJson"/>.</summary>
    public static string WithField(string field, string valueJson) => field switch
    {
        "userId" => $$"""{"userId":{{valueJson}},"event":"e"}""",
        "event" => $$"""{"userId":"u1","event":{{valueJson}}}""",
        _ => $$"""{"userId":"u1","event":"e","{{field}}":{{valueJson}}}""",
    };

    /// <summary>A valid event whose JSON is <paramref name="depth"/> levels deep (the event object is level 1).</summary>
    public static string Nested(int depth)
    {
        // properties is level 2; each further {"a": ...} adds one.
        var inner = depth - 1;
        var properties = string.Concat(Enumerable.Repeat("{\"a\":", inner - 1)) + "{}" + new string('}', inner - 1);
        return $$"""{"userId":"u1","event":"e","properties":{{properties}}}""";
    }

    /// <summary>Each char of <paramref name="text"/> as one byte, so a test can put raw invalid UTF-8 in a body.</summary>
    public static byte[] Latin1Bytes(string text) => Encoding.Latin1.GetBytes(text);
}
