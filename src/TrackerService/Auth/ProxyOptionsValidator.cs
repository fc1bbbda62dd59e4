using System.Net;
using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Auth;

internal sealed class ProxyOptionsValidator : IValidateOptions<ProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, ProxyOptions options)
    {
        var check = new OptionsCheck(ProxyOptions.Section).Range(nameof(options.ForwardLimit), options.ForwardLimit, 1, 100);
        for (var i = 0; i < options.KnownProxies.Count; i++)
        {
            if (!IPAddress.TryParse(options.KnownProxies[i], out _))
            {
                check.Fail($"{nameof(options.KnownProxies)}:{i}", options.KnownProxies[i], "must be an IP address such as 10.0.0.5");
            }
        }

        for (var i = 0; i < options.KnownNetworks.Count; i++)
        {
            if (!IPNetwork.TryParse(options.KnownNetworks[i], out _))
            {
                check.Fail($"{nameof(options.KnownNetworks)}:{i}", options.KnownNetworks[i], "must be a network in CIDR notation such as 10.0.0.0/8");
            }
        }

        return check.Result();
    }
}
