using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Hosting;

/// <summary>
/// The public listener's connection limits, Kestrel's own settings under <c>Kestrel:Limits</c>, with the service's
/// defaults (docs/configuration.md says why each). Kestrel's defaults (no connection cap, 130 s keep-alive, 30 s for
/// the headers) let a flood of idle or header-only connections pile up.
/// </summary>
internal static class KestrelLimits
{
    public const string Section = "Kestrel:Limits";

    public const int DefaultMaxConcurrentConnections = 1000;

    public static readonly TimeSpan DefaultKeepAliveTimeout = TimeSpan.FromSeconds(90);

    public static readonly TimeSpan DefaultRequestHeadersTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Adds the defaults as the first, so lowest-priority, configuration source (appsettings, the environment and the
    /// command line override them), and binds <c>Kestrel:Limits</c> onto Kestrel's options: the web host binds only
    /// endpoints and certificates from the <c>Kestrel</c> section, not its limits (checked on a real process).
    /// </summary>
    public static WebApplicationBuilder AddKestrelLimits(this WebApplicationBuilder builder)
    {
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                [$"{Section}:{nameof(KestrelServerLimits.MaxConcurrentConnections)}"] = DefaultMaxConcurrentConnections.ToString(CultureInfo.InvariantCulture),
                [$"{Section}:{nameof(KestrelServerLimits.KeepAliveTimeout)}"] = DefaultKeepAliveTimeout.ToString("c", CultureInfo.InvariantCulture),
                [$"{Section}:{nameof(KestrelServerLimits.RequestHeadersTimeout)}"] = DefaultRequestHeadersTimeout.ToString("c", CultureInfo.InvariantCulture),
            },
        });

        // Checked with the other settings before anything starts (one line, key and value). Kestrel's options are
        // built with the app, before that check: a value that does not bind is left to the check to report.
        builder.Services.AddTrackerOptions<Settings, SettingsValidator>(Section);
        builder.Services.Configure<KestrelServerOptions>(options => TryBind(builder.Configuration.GetSection(Section), options.Limits, out _));
        return builder;
    }

    /// <summary>Binds <paramref name="section"/> onto <paramref name="limits"/>; false, with why, when a value does not convert or is out of Kestrel's range.</summary>
    private static bool TryBind(IConfiguration section, KestrelServerLimits limits, out string? error)
    {
        try
        {
            section.Bind(limits);
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or TargetInvocationException)
        {
            error = ex.GetBaseException().Message.TrimEnd('.');
            return false;
        }
    }

    /// <summary>The limits the service sets a default for, read to be checked and reported; Kestrel binds its own copy.</summary>
    internal sealed class Settings
    {
        public int? MaxConcurrentConnections { get; set; }

        public TimeSpan KeepAliveTimeout { get; set; }

        public TimeSpan RequestHeadersTimeout { get; set; }
    }

    private sealed class SettingsValidator(IConfiguration configuration) : IValidateOptions<Settings>
    {
        private static readonly string[] Checked =
            [nameof(Settings.MaxConcurrentConnections), nameof(Settings.KeepAliveTimeout), nameof(Settings.RequestHeadersTimeout)];

        public ValidateOptionsResult Validate(string? name, Settings options)
        {
            var check = new OptionsCheck(Section)
                .Range(nameof(options.KeepAliveTimeout), options.KeepAliveTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1))
                .Range(nameof(options.RequestHeadersTimeout), options.RequestHeadersTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
            if (options.MaxConcurrentConnections is { } connections)
            {
                check.Range(nameof(options.MaxConcurrentConnections), connections, 1, 1_000_000);
            }

            // Kestrel's other limits (MaxRequestLineSize, Http2:..., ...) are its own to range; each is tried alone so
            // that every bad one is named.
            foreach (var (key, value) in configuration.GetSection(Section).AsEnumerable(makePathsRelative: true))
            {
                if (value is not null && !Checked.Contains(key, StringComparer.OrdinalIgnoreCase)
                    && !TryBind(new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build(), new KestrelServerLimits(), out var error))
                {
                    check.Fail(key, value, $"is not taken by Kestrel ({error})");
                }
            }

            return check.Result();
        }
    }
}
