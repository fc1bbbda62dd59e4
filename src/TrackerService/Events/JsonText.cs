using System.Text;

namespace TrackerService.Events;

/// <summary>
/// A client's JSON object, kept as the UTF-8 bytes it arrived in: half the memory of a .NET string for the
/// queue's largest fields, no transcoding on the way in, and the form both stores take (SQLite text is UTF-8,
/// PostgreSQL's <c>jsonb</c> input is UTF-8 text). Compared by content.
/// </summary>
internal sealed class JsonText : IEquatable<JsonText>
{
    private readonly byte[] _utf8;

    /// <param name="utf8">Valid UTF-8; the caller gives up the array.</param>
    public JsonText(byte[] utf8) => _utf8 = utf8;

    public ReadOnlySpan<byte> Utf8 => _utf8;

    public ReadOnlyMemory<byte> Memory => _utf8;

    public static implicit operator JsonText?(string? text) => text is null ? null : new JsonText(Encoding.UTF8.GetBytes(text));

    public static bool operator ==(JsonText? left, JsonText? right) => Equals(left, right);

    public static bool operator !=(JsonText? left, JsonText? right) => !Equals(left, right);

    public bool Equals(JsonText? other) => other is not null && _utf8.AsSpan().SequenceEqual(other._utf8);

    public override bool Equals(object? obj) => obj is JsonText other && Equals(other);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(_utf8);
        return hash.ToHashCode();
    }

    /// <summary>The JSON text.</summary>
    public override string ToString() => Encoding.UTF8.GetString(_utf8);
}
