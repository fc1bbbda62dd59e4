using System.Globalization;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Reads the admin listener's <c>/metrics</c> (Prometheus text format).</summary>
internal static class Prometheus
{
    /// <summary>The value of the first sample of <paramref name="metric"/> that has <paramref name="label"/>, or null.</summary>
    public static double? Sample(string prometheusText, string metric, string label = "")
    {
        // name{label="value",...} value [timestamp]
        var line = prometheusText.Split('\n').FirstOrDefault(l =>
            (l.StartsWith(metric + "{", StringComparison.Ordinal) || l.StartsWith(metric + " ", StringComparison.Ordinal))
            && l.Contains(label, StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
