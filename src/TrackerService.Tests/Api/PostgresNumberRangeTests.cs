using System.Text;
using Npgsql;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary>
/// The intake's rule for numbers against the store's: for numbers drawn around every edge of PostgreSQL's
/// <c>numeric</c> (the exponent's bound, the 16383 digits after the point, 10^131072), an event is accepted exactly
/// when a real PostgreSQL's <c>jsonb</c> takes its number.
/// </summary>
[Collection(PostgresDatabase.Name)]
public sealed class PostgresNumberRangeTests(PostgresFixture postgres)
{
    private const int Draws = 1500;

    [SkippableFact]
    public async Task AcceptsANumberExactlyWhenPostgresJsonbTakesIt()
    {
        // Given numbers near the edges (the seed is printed with any mismatch, to replay it)
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var numbers = Enumerable.Range(0, Draws).Select(_ => Draw(random)).Distinct().ToArray();

        // When the intake reads each in an event's properties, and PostgreSQL casts each to jsonb
        var intake = numbers.Select(n => EventRead.Of("""{"userId":"u","event":"e","properties":{"a":[{"n":""" + n + "}]}}").Errors.Count == 0).ToArray();
        var store = await JsonbTakesAsync(numbers);

        // Then they agree on every number
        var mismatches = numbers.Where((n, i) => intake[i] != store[i])
            .Select(n => $"{Shorten(n)} (intake {(intake[Array.IndexOf(numbers, n)] ? "accepts" : "refuses")})").Take(10).ToList();
        Assert.True(mismatches.Count == 0, $"seed {seed}: {string.Join("; ", mismatches)}");
        Assert.Contains(true, store);
        Assert.Contains(false, store);
    }

    private async Task<bool[]> JsonbTakesAsync(string[] numbers)
    {
        await using var connection = new NpgsqlConnection(await postgres.CreateDatabaseAsync());
        await connection.OpenAsync();
        await using (var function = new NpgsqlCommand("""
            CREATE FUNCTION jsonb_takes(n text) RETURNS boolean LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM ('{"n":' || n || '}')::jsonb;
                RETURN true;
            EXCEPTION WHEN numeric_value_out_of_range THEN
                RETURN false;
            END $$
            """, connection))
        {
            await function.ExecuteNonQueryAsync();
        }

        await using var query = new NpgsqlCommand("SELECT jsonb_takes(n) FROM unnest(@numbers) WITH ORDINALITY AS t(n, i) ORDER BY i", connection);
        query.Parameters.AddWithValue("numbers", numbers);
        var takes = new List<bool>();
        await using var rows = await query.ExecuteReaderAsync();
        while (await rows.ReadAsync())
        {
            takes.Add(rows.GetBoolean(0));
        }

        return [.. takes];
    }

    /// <summary>A valid JSON number whose digits and exponent sit near one of numeric's edges, or anywhere.</summary>
    private static string Draw(Random random)
    {
        var zero = random.Next(8) == 0;
        var integer = zero ? "0" : random.Next(4) == 0 ? "0" : Digits(random, random.Next(1, 7), leadingNonZero: true);
        var fractionLength = random.Next(5) switch
        {
            0 => 0,
            1 => random.Next(16378, 16390),
            _ => random.Next(1, 7),
        };
        var fraction = fractionLength == 0 ? "" : "." + (zero ? new string('0', fractionLength) : Digits(random, fractionLength, leadingNonZero: false));
        var leadingPower = integer != "0" ? integer.Length - 1 : fraction.AsSpan().IndexOfAnyInRange('1', '9') is var j and >= 0 ? -j : 0;
        long exponent = random.Next(7) switch
        {
            0 => random.Next(-20, 20),
            1 => 131071 - leadingPower + random.Next(-3, 4),
            2 => -(16383 - Math.Max(0, fractionLength - 1)) + random.Next(-3, 4) - 1,
            3 => (int.MaxValue / 2) + random.Next(-3, 2),
            4 => -(int.MaxValue / 2) + random.Next(-1, 4),
            5 => random.NextInt64(-5_000_000_000, 5_000_000_000),
            _ => long.MinValue, // no exponent
        };
        var sign = random.Next(3) == 0 ? "-" : "";
        var e = exponent == long.MinValue ? "" : $"{(random.Next(2) == 0 ? 'e' : 'E')}{(exponent >= 0 && random.Next(2) == 0 ? "+" : "")}{exponent}";
        return sign + integer + fraction + e;
    }

    private static string Digits(Random random, int count, bool leadingNonZero)
    {
        var digits = new StringBuilder(count);
        for (var i = 0; i < count; i++)
        {
            digits.Append((char)('0' + (i == 0 && leadingNonZero ? random.Next(1, 10) : random.Next(10))));
        }

        return digits.ToString();
    }

    private static string Shorten(string number) => number.Length <= 60 ? number : $"{number[..20]}…({number.Length} chars)…{number[^20..]}";
}
