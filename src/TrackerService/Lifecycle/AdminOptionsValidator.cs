using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Lifecycle;

internal sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var check = new OptionsCheck(AdminOptions.Section);
        if (!IsHttpBinding(options.AdminUrl))
        {
            check.Fail(nameof(options.AdminUrl), options.AdminUrl, "must be an http:// address such as http://localhost:8081 or http://0.0.0.0:8081");
        }

        return check.Result();
    }

    private static bool IsHttpBinding(string? url)
    {
        try
        {
            return url is not null && BindingAddress.Parse(url) is { Scheme: "http", Port: >= 0 and <= 65535 };
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
