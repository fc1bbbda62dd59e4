namespace TrackerService.Auth;

/// <summary>
/// The reverse proxies whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed (section
/// <c>Tracker:Proxy</c>): a request from one of them gets the client's address and scheme from those headers, so
/// <c>HttpContext.Connection.RemoteIpAddress</c> (an event's <c>context.ip</c>) is the client's. Loopback is always
/// trusted (the framework's default); anyone else's forwarded headers are ignored.
/// </summary>
public sealed class ProxyOptions
{
    public const string Section = "Tracker:Proxy";

    /// <summary>Addresses of trusted proxies, such as <c>10.0.0.5</c>. The default value is none.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of trusted proxies in CIDR notation, such as <c>10.0.0.0/8</c>. The default value is none.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>
    /// Most proxies in front of the service, counted from its side: how many entries of <c>X-Forwarded-For</c> are
    /// read, each only while the address before it is trusted. The default value is 1.
    /// </summary>
    public int ForwardLimit { get; set; } = 1;
}
