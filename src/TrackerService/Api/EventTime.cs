using System.Text.Json;

namespace TrackerService.Api;

/// <summary>
/// The rule of <c>timestamp</c> and <c>sentAt</c>: an ISO-8601 date and time; without an offset it is UTC, never the
/// server's time zone (which would store a different instant per machine); a date alone, or an instant outside
/// [<see cref="Earliest"/>, <see cref="Latest"/>), is refused.
/// </summary>
internal static class EventTime
{
    /// <summary>The earliest time taken: a client whose clock was reset to the epoch still gets its events stored.</summary>
    public static readonly DateTimeOffset Earliest = DateTimeOffset.UnixEpoch;

    /// <summary>The first time refused. Years 1 and 9999 are no one's real clock, and PostgreSQL stores their edges as ±infinity.</summary>
    public static readonly DateTimeOffset Latest = new(3000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public const string Invalid = "Must be an ISO-8601 date and time, e.g. 2026-01-31T12:00:00.000Z.";

    public const string DateOnly = "Must have a time of day, e.g. 2026-01-31T12:00:00.000Z: a date alone is not an instant.";

    public const string OutOfRange = "Must be from 1970-01-01T00:00:00Z and before 3000-01-01T00:00:00Z.";

    /// <summary>Longest text System.Text.Json reads as a date (with fractions and an offset), and then some.</summary>
    private const int MaxLength = 64;

    /// <summary>Reads the time the string token holds; null with <paramref name="error"/> set when it is refused.</summary>
    public static DateTimeOffset? Read(ref Utf8JsonReader reader, out string? error)
    {
        error = Invalid;
        Span<byte> copy = stackalloc byte[MaxLength];
        scoped ReadOnlySpan<byte> text;
        if (!reader.ValueIsEscaped)
        {
            text = reader.ValueSpan;
        }
        else if (reader.ValueSpan.Length <= MaxLength && Unescape(ref reader, copy) is var length and >= 0)
        {
            text = copy[..length];
        }
        else
        {
            return null;
        }

        // The profile System.Text.Json reads is YYYY-MM-DD, then optionally 'T', the time, and an offset.
        if (text.Length <= 10)
        {
            error = reader.TryGetDateTime(out _) ? DateOnly : Invalid;
            return null;
        }

        DateTimeOffset value;
        if (HasOffset(text[10..]))
        {
            if (!reader.TryGetDateTimeOffset(out value))
            {
                return null;
            }
        }
        else if (reader.TryGetDateTime(out var unspecified))
        {
            value = new DateTimeOffset(DateTime.SpecifyKind(unspecified, DateTimeKind.Utc));
        }
        else
        {
            return null;
        }

        if (value < Earliest || value >= Latest)
        {
            error = OutOfRange;
            return null;
        }

        error = null;
        return value;
    }

    /// <summary>The escaped string token, unescaped into <paramref name="copy"/>: its length, or -1 when it holds an unpaired surrogate.</summary>
    private static int Unescape(ref Utf8JsonReader reader, scoped Span<byte> copy)
    {
        try
        {
            return reader.CopyString(copy);
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    /// <summary>Whether the part after the date (the time) ends in Z or carries a ±hh:mm offset.</summary>
    private static bool HasOffset(ReadOnlySpan<byte> time) =>
        time[^1] is (byte)'Z' or (byte)'z' || time.IndexOfAny((byte)'+', (byte)'-') >= 0;
}
