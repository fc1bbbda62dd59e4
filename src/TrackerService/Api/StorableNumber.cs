namespace TrackerService.Api;

/// <summary>
/// Whether a JSON number fits PostgreSQL's <c>numeric</c>, which <c>jsonb</c> stores every number as: JSON has no
/// range, so <c>1e999999</c> is valid JSON that the store refuses (22003 "value overflows numeric format") after the
/// 202. The rule is PostgreSQL 15's own (numeric.c, set_var_from_str and make_result), checked against a real server
/// (PostgresNumberRangeTests).
/// </summary>
internal static class StorableNumber
{
    /// <summary>Most digits after the point (the display scale, NUMERIC_DSCALE_MAX), counting the exponent's shift.</summary>
    public const int MaxFractionDigits = 16383;

    /// <summary>
    /// The highest power of ten a leading digit may stand for: numeric's weight is at most 32767 base-10000 digits,
    /// so values stay below 10^131072.
    /// </summary>
    public const int MaxLeadingExponent = 131071;

    /// <summary>An exponent as written must be strictly inside ±(INT_MAX / 2), even on zero.</summary>
    private const long ExponentBound = int.MaxValue / 2;

    public const string Refused =
        "Holds a number PostgreSQL's numeric cannot store: it must be below 1e131072 in magnitude and have at most 16383 digits after the point.";

    /// <summary>Whether the number token's text (valid JSON, as the reader gives it) is storable.</summary>
    public static bool IsStorable(ReadOnlySpan<byte> number) =>
        // The hot path: no exponent, and too short to have 16384 digits after the point or 131073 before it.
        (number.Length <= MaxFractionDigits && !number.ContainsAny((byte)'e', (byte)'E')) || IsStorableCarefully(number);

    private static bool IsStorableCarefully(ReadOnlySpan<byte> number)
    {
        var i = number[0] == (byte)'-' ? 1 : 0;
        var integerStart = i;
        while (i < number.Length && IsDigit(number[i]))
        {
            i++;
        }

        var integerDigits = number[integerStart..i];
        var fraction = ReadOnlySpan<byte>.Empty;
        if (i < number.Length && number[i] == (byte)'.')
        {
            var fractionStart = ++i;
            while (i < number.Length && IsDigit(number[i]))
            {
                i++;
            }

            fraction = number[fractionStart..i];
        }

        long exponent = 0;
        if (i < number.Length)
        {
            // 'e' or 'E', an optional sign, then digits: more than ten significant ones are past the bound anyway.
            i++;
            var negative = number[i] == (byte)'-';
            i += number[i] is (byte)'-' or (byte)'+' ? 1 : 0;
            var digits = number[i..].TrimStart((byte)'0');
            if (digits.Length > 10)
            {
                return false;
            }

            foreach (var digit in digits)
            {
                exponent = (exponent * 10) + (digit - '0');
            }

            exponent = negative ? -exponent : exponent;
        }

        if (exponent >= ExponentBound || exponent <= -ExponentBound || Math.Max(0, fraction.Length - exponent) > MaxFractionDigits)
        {
            return false;
        }

        // The power of ten the first non-zero digit stands for; zero itself has none and is always in range.
        var leading = integerDigits.IndexOfAnyExcept((byte)'0');
        if (leading >= 0)
        {
            return integerDigits.Length - 1 - leading + exponent <= MaxLeadingExponent;
        }

        var leadingInFraction = fraction.IndexOfAnyExcept((byte)'0');
        return leadingInFraction < 0 || -(leadingInFraction + 1) + exponent <= MaxLeadingExponent;
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';
}
