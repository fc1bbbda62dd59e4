using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Write keys for tests: their settings and the headers that carry them.</summary>
internal static class WriteKeys
{
    /// <summary><c>Authorization: Basic base64(key:password)</c>, as Segment's SDKs send it (empty password).</summary>
    public static AuthenticationHeaderValue Basic(string key, string password = "") =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key}:{password}")));

    public static AuthenticationHeaderValue Bearer(string key) => new("Bearer", key);

    /// <summary>The hex SHA-256 of a key, as <c>KeySha256</c> holds it.</summary>
    public static string Sha256(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>
    /// Settings for exactly these keys (from index 0) and no anonymous access. Development's own key sits at index 0
    /// of the settings files, so each entry clears what it does not set.
    /// </summary>
    public static Dictionary<string, string?> Only(params (string Id, string Key)[] keys)
    {
        var settings = new Dictionary<string, string?> { ["Tracker:Auth:AllowAnonymous"] = "false" };
        for (var i = 0; i < keys.Length; i++)
        {
            settings[$"Tracker:WriteKeys:{i}:Id"] = keys[i].Id;
            settings[$"Tracker:WriteKeys:{i}:Key"] = keys[i].Key;
            settings[$"Tracker:WriteKeys:{i}:KeySha256"] = null;
        }

        return settings;
    }

    /// <summary>An HTTP client of <paramref name="app"/> that sends <paramref name="authorization"/> with every request.</summary>
    public static HttpClient Client(TrackerApplication app, AuthenticationHeaderValue? authorization)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = authorization;
        return client;
    }
}
