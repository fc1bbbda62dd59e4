using Microsoft.Extensions.Options;

namespace TrackerService.Auth;

/// <summary>
/// Checks the write keys and <c>Tracker:Auth</c> at start, so a bad key is a one-line start-up failure with the other
/// settings; later reloads are checked by <see cref="IntakeAccess"/>, which keeps the last good keys instead.
/// </summary>
internal sealed class AuthOptionsValidator(IConfiguration configuration, IHostEnvironment environment) : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options) =>
        AccessSettings.Read(configuration, environment.IsProduction()).Result;
}
