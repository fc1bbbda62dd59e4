using System.Buffers;
using System.Text;
using System.Text.Json;
using TrackerService.Events;

namespace TrackerService.Api;

/// <summary>
/// Merges JSON objects by their top-level members, as the Segment API merges a batch's <c>context</c> and
/// <c>integrations</c> under each event's own: the event's members first, as they came, then those of the envelope it
/// doesn't have. Members are copied as their raw text, never re-serialized; both objects were validated already.
/// </summary>
internal static class JsonMerge
{
    private static readonly JsonReaderOptions Reader = new() { MaxDepth = 64 };

    /// <param name="own">The event's object.</param>
    /// <param name="under">The envelope's object, whose members the event's override.</param>
    /// <param name="fillName">A member added when neither object has it (<c>ip</c>)...</param>
    /// <param name="fillValue">...with this string value, which must need no JSON escaping (an IP address).</param>
    /// <param name="dropName">A member left out of both.</param>
    /// <returns><paramref name="own"/> itself when nothing changes.</returns>
    public static JsonText? Merge(JsonText? own, JsonText? under, string? fillName = null, string? fillValue = null, string? dropName = null)
    {
        if (under is null && fillName is null && dropName is null)
        {
            return own;
        }

        if (under is null && own is not null && !HasMember(own.Utf8, dropName) && !HasMember(own.Utf8, fillName))
        {
            // The usual case, without an envelope object: the event's own as it came, the fill member appended.
            return fillName is null || fillValue is null ? own : Append(own.Utf8, fillName, fillValue);
        }

        var output = new ArrayBufferWriter<byte>((own?.Utf8.Length ?? 0) + (under?.Utf8.Length ?? 0) + 64);
        output.Write("{"u8);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var members = 0;
        var changed = false;
        if (own is not null)
        {
            changed |= CopyMembers(own.Utf8, output, names, dropName, ref members);
        }

        if (under is not null)
        {
            CopyMembers(under.Utf8, output, names, dropName, ref members);
            changed = true;
        }

        if (fillName is not null && fillValue is not null && !names.Contains(fillName))
        {
            Separate(output, ref members);
            output.Write(Encoding.UTF8.GetBytes($"\"{fillName}\":\"{fillValue}\""));
            changed = true;
        }

        if (!changed)
        {
            return own;
        }

        output.Write("}"u8);
        return new JsonText(output.WrittenSpan.ToArray());
    }

    /// <summary>Whether the object has a member named <paramref name="name"/> (at its top level).</summary>
    private static bool HasMember(ReadOnlySpan<byte> json, string? name)
    {
        if (name is null)
        {
            return false;
        }

        var reader = new Utf8JsonReader(json, Reader);
        reader.Read(); // '{'
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name))
            {
                return true;
            }

            reader.Read();
            reader.Skip();
        }

        return false;
    }

    /// <summary>The object with the member <c>"name":"value"</c> added at its end, in one array.</summary>
    private static JsonText Append(ReadOnlySpan<byte> json, string name, string value)
    {
        var body = json[..json.LastIndexOf((byte)'}')];
        var empty = body[1..].TrimStart(" \t\r\n"u8).IsEmpty;
        var result = new byte[body.Length + (empty ? 0 : 1) + Encoding.UTF8.GetByteCount(name) + Encoding.UTF8.GetByteCount(value) + 6];
        body.CopyTo(result);
        var at = body.Length;
        if (!empty)
        {
            result[at++] = (byte)',';
        }

        result[at++] = (byte)'"';
        at += Encoding.UTF8.GetBytes(name, result.AsSpan(at));
        "\":\""u8.CopyTo(result.AsSpan(at));
        at += 3;
        at += Encoding.UTF8.GetBytes(value, result.AsSpan(at));
        "\"}"u8.CopyTo(result.AsSpan(at));
        return new JsonText(result);
    }

    /// <summary>Copies the object's members whose names are not in <paramref name="names"/> nor <paramref name="dropName"/>, adding their names.</summary>
    /// <returns>Whether a member was left out.</returns>
    private static bool CopyMembers(ReadOnlySpan<byte> json, ArrayBufferWriter<byte> output, HashSet<string> names, string? dropName, ref int members)
    {
        var left = false;
        var seen = new List<string>();
        var reader = new Utf8JsonReader(json, Reader);
        reader.Read(); // '{'
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var start = (int)reader.TokenStartIndex;
            var name = reader.GetString()!;
            reader.Read();
            reader.Skip();
            if (names.Contains(name) || name == dropName)
            {
                left = true;
                continue;
            }

            Separate(output, ref members);
            output.Write(json[start..(int)reader.BytesConsumed]);
            seen.Add(name);
        }

        names.UnionWith(seen); // after the walk: a name twice in one object is kept twice, as it came
        return left;
    }

    private static void Separate(ArrayBufferWriter<byte> output, ref int members)
    {
        if (members++ > 0)
        {
            output.Write(","u8);
        }
    }
}
