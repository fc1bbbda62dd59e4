using System.Globalization;
using Microsoft.Extensions.Options;

namespace TrackerService.Options;

/// <summary>
/// Collects what is wrong with one options section, each failure naming the configuration key and the value it
/// had (<c>Tracker:Queue:Capacity = '0' is invalid: it must be between 1 and 100000000.</c>), so an operator can
/// fix the setting from the message alone. The failures are kept by the framework's
/// <see cref="ValidateOptionsResultBuilder"/>; this only spells them the same way everywhere.
/// </summary>
internal sealed class OptionsCheck(string section)
{
    private readonly ValidateOptionsResultBuilder _failures = new();

    public OptionsCheck Range(string key, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            Fail(key, value, $"must be between {min} and {max}");
        }

        return this;
    }

    public OptionsCheck Range(string key, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            Fail(key, value, $"must be between {min} and {max}");
        }

        return this;
    }

    public OptionsCheck Range(string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            Fail(key, value.ToString("c", CultureInfo.InvariantCulture), $"must be between {min:c} and {max:c}");
        }

        return this;
    }

    /// <summary>A number, as the configuration spells it (invariant culture).</summary>
    public OptionsCheck Fail(string key, IFormattable value, string rule) => Fail(key, value.ToString(null, CultureInfo.InvariantCulture), rule);

    public OptionsCheck Fail(string key, string? value, string rule)
    {
        _failures.AddError($"{section}:{key} = '{value}' is invalid: it {rule}.");
        return this;
    }

    public ValidateOptionsResult Result() => _failures.Build();
}
