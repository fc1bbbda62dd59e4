using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Hosting;

/// <summary>What this process is (<c>Tracker:Role</c>): the same binary takes events or loads the stream.</summary>
public enum TrackerRole
{
    /// <summary>Takes events over HTTP and delivers them to its store (SQLite, PostgreSQL, or the JetStream stream).</summary>
    Intake,

    /// <summary>Takes no events: reads the JetStream stream and writes it to SQLite or PostgreSQL (<c>Loading/</c>).</summary>
    Loader,
}

/// <summary>The role setting (key <c>Tracker:Role</c>).</summary>
public sealed class RoleOptions
{
    /// <summary>The section the key is in; the key itself is <c>Tracker:Role</c>.</summary>
    public const string Section = "Tracker";

    /// <summary>What the process does. The default value is <see cref="TrackerRole.Intake"/>.</summary>
    public TrackerRole Role { get; set; } = TrackerRole.Intake;

    /// <summary>
    /// The role as the wiring needs it, before the settings are validated: a value that is no role wires the intake,
    /// and the validation then stops the start with one line naming it.
    /// </summary>
    public static TrackerRole Of(IConfiguration configuration) =>
        Enum.TryParse<TrackerRole>(configuration[$"{Section}:{nameof(Role)}"], ignoreCase: true, out var role) && Enum.IsDefined(role) ? role : TrackerRole.Intake;

    /// <summary>Registers the setting, checked at start like every other.</summary>
    internal static IServiceCollection Add(IServiceCollection services)
    {
        services.AddTrackerOptions<RoleOptions, Validator>(Section);
        return services;
    }

    private sealed class Validator : IValidateOptions<RoleOptions>
    {
        public ValidateOptionsResult Validate(string? name, RoleOptions options)
        {
            var check = new OptionsCheck(Section);
            if (!Enum.IsDefined(options.Role))
            {
                check.Fail(nameof(options.Role), options.Role.ToString(), $"must be one of {string.Join(", ", Enum.GetNames<TrackerRole>())}");
            }

            return check.Result();
        }
    }
}
