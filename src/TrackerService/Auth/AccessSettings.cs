using System.Collections.Frozen;
using System.Globalization;
using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Auth;

/// <summary>
/// Reads <c>Tracker:WriteKeys</c> and <c>Tracker:Auth</c> into an <see cref="AccessSnapshot"/>, or says what is
/// wrong, each failure naming the key (never a key's secret). Read by hand, not by the configuration binder: the
/// binder throws on a value it can't convert, and on a reload a throw must not reach the file watcher.
/// </summary>
internal static class AccessSettings
{
    public const string WriteKeysSection = "Tracker:WriteKeys";

    private const int MaxPermitsPerSecond = 1_000_000;

    /// <param name="production">Whether the host runs in Production, where no keys is a failure unless anonymous access is asked for.</param>
    public static (AccessSnapshot? Snapshot, ValidateOptionsResult Result) Read(IConfiguration configuration, bool production)
    {
        var auth = configuration.GetSection(AuthOptions.Section);
        var authCheck = new OptionsCheck(AuthOptions.Section);
        var allowAnonymous = Bool(authCheck, auth, nameof(AuthOptions.AllowAnonymous), false);
        var defaultLimit = Limit(authCheck, auth.GetSection(AuthOptions.DefaultRateLimitKey), AuthOptions.DefaultRateLimitKey, source: null);
        var failures = authCheck.Result().Failures?.ToList() ?? [];

        var keys = new Dictionary<KeyHash, WriteKey>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var entries = configuration.GetSection(WriteKeysSection).GetChildren().ToList();
        foreach (var entry in entries)
        {
            var check = new OptionsCheck(WriteKeysSection);
            var key = Entry(check, entry, ids, defaultLimit);
            if (key is { Hash: var hash, Key: var writeKey } && !keys.TryAdd(hash, writeKey))
            {
                check.Fail(entry.Key, writeKey.Source, "has the same key as another write key");
            }

            failures.AddRange(check.Result().Failures ?? []);
        }

        if (production && entries.Count == 0 && !allowAnonymous)
        {
            failures.Add($"{WriteKeysSection} = '' is invalid: Production needs at least one write key "
                + $"(or {AuthOptions.Section}:{nameof(AuthOptions.AllowAnonymous)}=true to take events without one).");
        }

        return failures.Count > 0
            ? (null, ValidateOptionsResult.Fail(failures))
            : (new AccessSnapshot(keys, allowAnonymous, defaultLimit), ValidateOptionsResult.Success);
    }

    private static (KeyHash Hash, WriteKey Key)? Entry(OptionsCheck check, IConfigurationSection entry, HashSet<string> ids, RateLimit? defaultLimit)
    {
        var at = entry.Key;
        var id = entry["Id"];
        if (string.IsNullOrWhiteSpace(id))
        {
            check.Fail($"{at}:Id", id, "must name the key's source");
        }
        else if (!ids.Add(id))
        {
            check.Fail($"{at}:Id", id, "must be unique, and another write key has it");
        }

        var plain = Value(entry, "Key");
        var sha256 = Value(entry, "KeySha256");
        KeyHash hash = default;
        if ((plain is null) == (sha256 is null))
        {
            check.Fail(at, id, "must have either Key or KeySha256 (the hex SHA-256 of the key), " + (plain is null ? "and has neither" : "not both"));
        }
        else if (plain is not null)
        {
            hash = KeyHash.Of(plain.AsSpan());
        }
        else if (!KeyHash.TryParseHex(sha256!, out hash))
        {
            check.Fail($"{at}:KeySha256", sha256, "must be 64 hex digits (the SHA-256 of the key)");
        }

        var enabled = Bool(check, entry, $"{at}:Enabled", true, "Enabled");
        var ownLimit = entry.GetSection("RateLimit");
        var limit = ownLimit.Exists() ? Limit(check, ownLimit, $"{at}:RateLimit", id) : defaultLimit is null ? null : defaultLimit with { Source = id };
        var origins = entry.GetSection("AllowedOrigins").GetChildren().Select(o => o.Value ?? "").ToList();
        foreach (var bad in origins.Where(o => !Origins.IsValid(o)))
        {
            check.Fail($"{at}:AllowedOrigins", bad, "must be an origin such as https://www.example.com (a scheme, a host and maybe a port)");
        }

        return check.Result().Failed
            ? null
            : (hash, new WriteKey(id, enabled, origins.Count == 0 ? null : origins.Select(Origins.Normalize).ToFrozenSet(Origins.Comparer), limit));
    }

    /// <summary>A rate limit section (<c>PermitsPerSecond</c>, <c>Burst</c>); null when unlimited (absent, or 0 permits a second).</summary>
    private static RateLimit? Limit(OptionsCheck check, IConfigurationSection section, string at, string? source)
    {
        if (!section.Exists())
        {
            return null;
        }

        if (Value(section, "PermitsPerSecond") is null)
        {
            check.Fail($"{at}:PermitsPerSecond", (string?)null, $"must be set: requests a second, 0 for unlimited, at most {MaxPermitsPerSecond}");
            return null;
        }

        var permits = Int(check, section, $"{at}:PermitsPerSecond", "PermitsPerSecond", 0, MaxPermitsPerSecond, null);
        if (permits is null or 0)
        {
            return null;
        }

        var burst = Int(check, section, $"{at}:Burst", "Burst", 1, int.MaxValue, (int)Math.Min(int.MaxValue, 2L * permits.Value));
        return burst is null ? null : new RateLimit(source, permits.Value, burst.Value);
    }

    private static int? Int(OptionsCheck check, IConfigurationSection section, string at, string name, int min, int max, int? fallback)
    {
        var value = Value(section, name);
        if (value is null)
        {
            return fallback;
        }

        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) || number < min || number > max)
        {
            check.Fail(at, value, $"must be a whole number between {min} and {max}");
            return null;
        }

        return number;
    }

    private static bool Bool(OptionsCheck check, IConfigurationSection section, string at, bool fallback, string? name = null)
    {
        var value = Value(section, name ?? at);
        if (value is null)
        {
            return fallback;
        }

        if (!bool.TryParse(value, out var flag))
        {
            check.Fail(at, value, "must be true or false");
        }

        return flag;
    }

    /// <summary>A setting's value; an empty one counts as unset (an environment variable set to nothing, a cleared override).</summary>
    private static string? Value(IConfigurationSection section, string name) => section[name] is { Length: > 0 } value ? value : null;
}
