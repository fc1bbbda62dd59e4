namespace TrackerService.Auth;

/// <summary>How origins (<c>scheme://host[:port]</c>) are written and compared: without a trailing slash, in any case.</summary>
internal static class Origins
{
    public static StringComparer Comparer => StringComparer.OrdinalIgnoreCase;

    /// <summary>Allocates nothing for an origin as browsers send it (no trailing slash).</summary>
    public static string Normalize(string origin) => origin.TrimEnd('/');

    /// <summary>Whether <paramref name="origin"/> is an http(s) origin: a scheme, a host and maybe a port, nothing else.</summary>
    public static bool IsValid(string origin) =>
        Uri.TryCreate(origin.TrimEnd('/'), UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.PathAndQuery == "/" && string.IsNullOrEmpty(uri.Fragment) && string.IsNullOrEmpty(uri.UserInfo);
}
