using System.Text.Json;

namespace TrackerService.Benchmarks;

/// <summary>Results go to stdout as one JSON object per line (snake_case), for bench/run to keep and report.py to read.</summary>
internal static class Output
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void Result(object value) => Console.WriteLine(JsonSerializer.Serialize(value, Options));

    public static void Progress(string message) => Console.Error.WriteLine($"  {message}");

    /// <summary>The value at quantile <paramref name="q"/> (0..1) of sorted values, nearest rank.</summary>
    public static double Quantile(long[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
