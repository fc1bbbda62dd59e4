using Microsoft.Extensions.Options;

namespace TrackerService.Hosting;

/// <summary>
/// Settings are checked before anything starts, and a bad one stops the process with one line naming each bad key
/// and its value: the message says everything, so no stack trace buries it.
/// </summary>
internal static class InvalidSettings
{
    /// <summary>Checks every options section now (what the host would do when it starts, after logging its own stack trace).</summary>
    public static WebApplication ValidateSettings(this WebApplication app)
    {
        app.Services.GetRequiredService<IStartupValidator>().Validate();
        return app;
    }

    /// <summary>The failures, on one line, when <paramref name="exception"/> is a settings failure; otherwise null.</summary>
    public static string? Describe(Exception exception) => exception switch
    {
        OptionsValidationException invalid => string.Join(" ", invalid.Failures),
        AggregateException { InnerExceptions: var inner } when inner.All(e => e is OptionsValidationException) =>
            string.Join(" ", inner.SelectMany(e => ((OptionsValidationException)e).Failures)),
        _ => null,
    };
}
