namespace TrackerService.Api;

/// <summary>What the service keeps about the sender (section <c>Tracker:Privacy</c>).</summary>
public sealed class PrivacyOptions
{
    public const string Section = "Tracker:Privacy";

    /// <summary>
    /// Whether an event of the Segment API keeps the sender's IP address as <c>context.ip</c>: the client's own, or
    /// else the connection's (the client's address behind a configured proxy). False leaves <c>context.ip</c> out,
    /// the client's too. The default value is true, as Segment does.
    /// </summary>
    public bool StoreIp { get; set; } = true;
}

/// <summary><see cref="PrivacyOptions"/> has no value to check beyond its type, which binding checks.</summary>
internal sealed class PrivacyOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<PrivacyOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, PrivacyOptions options) =>
        Microsoft.Extensions.Options.ValidateOptionsResult.Success;
}
