using System.ComponentModel;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace TrackerService.Options;

/// <summary>How every options section of the service is registered: bound, validated at start, failing in one way.</summary>
internal static class OptionsBinding
{
    /// <summary>
    /// Registers <typeparamref name="TOptions"/>, bound to <paramref name="section"/> and validated by
    /// <typeparamref name="TValidator"/> when the host starts.
    /// </summary>
    /// <remarks>
    /// Not <c>BindConfiguration</c>: the configuration binder throws on a value it can't convert
    /// (<c>Tracker:Sink:Kind=Foo</c>, <c>Tracker:Queue:Capacity=abc</c>) with a message of its own and a stack
    /// trace, before any validator runs. Here each such value is a failure like every other bad value
    /// (<see cref="OptionsCheck"/>), reported together with them as one <see cref="OptionsValidationException"/>.
    /// </remarks>
    public static OptionsBuilder<TOptions> AddTrackerOptions<TOptions, TValidator>(this IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions> =>
        services.AddOptionsWithValidateOnStart<TOptions, TValidator>()
            .Configure<IConfiguration>((options, configuration) =>
            {
                var values = configuration.GetSection(section);
                var check = new OptionsCheck(section);
                foreach (var property in typeof(TOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
                {
                    if (values[property.Name] is { } value && !Converts(value, property.PropertyType))
                    {
                        check.Fail(property.Name, value, Expected(property.PropertyType));
                    }
                }

                if (check.Result() is { Failed: true } result)
                {
                    throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(TOptions), result.Failures);
                }

                values.Bind(options);
            });

    /// <summary>Whether the binder can turn <paramref name="value"/> into <paramref name="type"/> (it uses the type's converter, invariant culture).</summary>
    private static bool Converts(string value, Type type)
    {
        try
        {
            return TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value) is not null || Nullable.GetUnderlyingType(type) is not null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException)
        {
            return false;
        }
    }

    private static string Expected(Type type) =>
        type.IsEnum ? $"must be one of {string.Join(", ", Enum.GetNames(type))}"
        : type == typeof(TimeSpan) ? "must be a duration such as 00:00:05 (hh:mm:ss)"
        : type == typeof(bool) ? "must be true or false"
        : type == typeof(int) || type == typeof(long) ? "must be a whole number"
        : type == typeof(double) ? "must be a number"
        : type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? "must be a list, one key per item (Name:0, Name:1, …; Name__0 in the environment)"
        : $"must be a {type.Name.ToLowerInvariant()}";
}
