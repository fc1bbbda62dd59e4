using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using CsCheck;

namespace TrackerService.Tests.Api;

/// <summary>
/// CsCheck generators of JSON text for the Segment API's property tests: any value (odd strings and numbers, deep
/// nesting, text that is not UTF-8), storable values, and byte-level mutations of a body.
/// </summary>
internal static class SegmentJsonGen
{
    /// <summary>Stand-ins in generated text for bytes that are not UTF-8: replaced by <see cref="ToBytes"/>, each by as many bytes.</summary>
    private const char BadBytes = '\uE000', EncodedSurrogate = '\uE001';

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Text for ids and names: letters, digits, punctuation, non-ASCII, a surrogate pair, quotes and a backslash.</summary>
    public static readonly Gen<string> Text = Gen.Select(
        Gen.Char["abcxyzABCXYZ0189 -_.@:/éü中"].Array[1, 24].Select(c => new string(c)),
        Gen.OneOf("", "", "😀", "\"q\"", "\\", "\t"),
        (text, tail) => text + tail);

    /// <summary>A JSON number's text, from the usual to what a store can't hold (1e999999) and what is not JSON at all.</summary>
    public static readonly Gen<string> Number = Gen.Frequency(
        (4, Gen.Long.Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (2, Gen.Double.Where(double.IsFinite).Select(d => d.ToString("R", CultureInfo.InvariantCulture))),
        (2, Gen.OneOf(
            "1e999999", "-1e999999", "1E+131072", "1e-99999", "-0", "0.0e0", "123456789012345678901234567890123456789", "1e2147483647",
            "0e-1073741824", "01", "1.", ".5", "+1", "NaN", "Infinity", "1e", "--1", "0x10")),
        (1, Gen.Int[16380, 16390].Select(n => "0." + new string('1', n))));

    /// <summary>A piece of a string literal's content: text, escapes, unpaired surrogates, U+0000, control characters, non-UTF-8 bytes.</summary>
    private static readonly Gen<string> Piece = Gen.Frequency(
        (6, Gen.Char["abcdefghijklmnopqrstuvwxyzABCXYZ0123456789"].Array[0, 6].Select(c => new string(c))),
        (3, Gen.OneOf("é", "中", "😀", " ", "\\n", "\\t", "\\\"", "\\\\", "\\/", "\\u00e9", "\\ud83d\\ude00", "\\u0041")),
        (2, Gen.OneOf("\\u0000", "\\ud800", "\\udfff", "\\ud800x", "\\ude00\\ud83d", $"{BadBytes}", $"{EncodedSurrogate}", "\\uZZZZ", "\\x", "\u0001", "\n")));

    /// <summary>A string literal, perhaps not a valid one.</summary>
    public static readonly Gen<string> StringLiteral = Piece.Array[0, 5].Select(p => "\"" + string.Concat(p) + "\"");

    private static readonly Gen<string> Leaf = Gen.Frequency((4, StringLiteral), (3, Number), (1, Gen.OneOf("true", "false", "null")));

    /// <summary>Any JSON value (or nearly: its leaves may break the grammar), nested a few levels, with odd keys and duplicates.</summary>
    public static readonly Gen<string> Value = Gen.Recursive<string>((depth, self) => depth >= 4 ? Leaf : Gen.Frequency(
        (4, Leaf),
        (1, self.Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
        (2, Gen.Select(Gen.Frequency((3, Gen.OneOf("\"type\"", "\"batch\"", "\"userId\"", "\"context\"", "\"event\"")), (2, StringLiteral)), self)
            .Array[0, 5].Select(members => "{" + string.Join(",", members.Select(m => m.Item1 + ":" + m.Item2)) + "}"))));

    /// <summary>An array or object nested past every depth limit (32 in an event, 64 in a body), or just under.</summary>
    public static readonly Gen<string> Deep = Gen.Select(Gen.Int[28, 70], Gen.Bool, (depth, arrays) => arrays
        ? new string('[', depth) + "1" + new string(']', depth)
        : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth));

    /// <summary>A value that every store keeps: storable strings and numbers, objects whose keys are unique.</summary>
    public static readonly Gen<string> StorableValue = Gen.Recursive<string>((depth, self) =>
    {
        var leaf = Gen.Frequency(
            (3, Gen.Select(Text, Gen.Bool, Literal)),
            (2, Gen.Long.Select(n => n.ToString(CultureInfo.InvariantCulture))),
            (1, Gen.Double.Where(double.IsFinite).Select(d => d.ToString("R", CultureInfo.InvariantCulture))),
            (1, Gen.OneOf("true", "false", "null", "1e308", "-0.5")));
        return depth >= 3 ? leaf : Gen.Frequency(
            (4, leaf),
            (1, self.Array[0, 3].Select(items => "[" + string.Join(",", items) + "]")),
            (1, self.Array[0, 3].Select(items => "{" + string.Join(",", items.Select((v, i) => $"\"k{i}\":{v}")) + "}")));
    });

    /// <summary>A JSON string literal of <paramref name="value"/>: escaped as System.Text.Json does by default, or as raw UTF-8.</summary>
    public static string Literal(string value, bool raw) => raw ? JsonSerializer.Serialize(value, Relaxed) : JsonSerializer.Serialize(value);

    /// <summary>The text as UTF-8, its stand-ins turned into bytes that are not UTF-8.</summary>
    public static byte[] ToBytes(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var i = 0; i + 2 < bytes.Length; i++)
        {
            if (bytes[i] == 0xEE && bytes[i + 1] == 0x80 && bytes[i + 2] is 0x80 or 0x81)
            {
                // U+E000 → a lead byte without its continuation and a byte never in UTF-8; U+E001 → a surrogate encoded (CESU-8).
                (bytes[i], bytes[i + 1], bytes[i + 2]) = bytes[i + 2] == 0x80 ? ((byte)0xC3, (byte)0x28, (byte)0xFF) : ((byte)0xED, (byte)0xA0, (byte)0x80);
            }
        }

        return bytes;
    }

    /// <summary>A byte-level mutation of a body: cut at any byte, a byte flipped, inserted or removed, a span doubled.</summary>
    public static Gen<byte[]> Mutated(byte[] body) => body.Length == 0 ? Gen.Const(body) : Gen.Select(
        Gen.Int[0, 4], Gen.Int[0, body.Length - 1], Gen.Byte, (how, at, b) => how switch
        {
            0 => body[..at],
            1 => [.. body[..at], (byte)(body[at] ^ b), .. body[(at + 1)..]],
            2 => [.. body[..at], b, .. body[at..]],
            3 => [.. body[..at], .. body[(at + 1)..]],
            _ => [.. body[..at], .. body[(at / 2)..]],
        });
}
