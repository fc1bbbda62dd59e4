using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Streaming;

internal sealed class JetStreamOptionsValidator : IValidateOptions<JetStreamOptions>
{
    /// <summary>The schemes the NATS client connects with.</summary>
    private static readonly string[] Schemes = ["nats", "tls", "ws", "wss"];

    public ValidateOptionsResult Validate(string? name, JetStreamOptions options)
    {
        var check = new OptionsCheck(JetStreamOptions.Section)
            .Range(nameof(options.Replicas), options.Replicas, 1, 5)
            .Range(nameof(options.DuplicateWindow), options.DuplicateWindow, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1))
            .Range(nameof(options.AckWait), options.AckWait, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1))
            .Range(nameof(options.MaxAckPending), options.MaxAckPending, 1, 1_000_000)
            .Range(nameof(options.PublishTimeout), options.PublishTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5))
            .Range(nameof(options.StartTimeout), options.StartTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10))
            .Range(nameof(options.MaxInFlight), options.MaxInFlight, 1, 100_000)
            .Range(nameof(options.FetchBatch), options.FetchBatch, 1, options.MaxAckPending >= 1 ? Math.Min(options.MaxAckPending, 100_000) : 100_000)
            .Range(nameof(options.FetchExpires), options.FetchExpires, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
        if (!IsUrlList(options.Url))
        {
            check.Fail(nameof(options.Url), options.Url, "must be a NATS URL (nats://host:4222) or a comma-separated list of them");
        }

        if (!IsName(options.Stream))
        {
            check.Fail(nameof(options.Stream), options.Stream, "must be a stream name: letters, digits, '-' and '_', without spaces, '.', '*', '>' or slashes");
        }

        if (!IsName(options.Consumer))
        {
            check.Fail(nameof(options.Consumer), options.Consumer, "must be a consumer name: letters, digits, '-' and '_', without spaces, '.', '*', '>' or slashes");
        }

        if (!IsSubjectPrefix(options.SubjectPrefix))
        {
            check.Fail(nameof(options.SubjectPrefix), options.SubjectPrefix, "must be a subject such as tracker.events: tokens separated by '.', without spaces or the wildcards '*' and '>'");
        }

        if (options.MaxAge != TimeSpan.Zero && (options.MaxAge < TimeSpan.FromMinutes(1) || options.MaxAge > TimeSpan.FromDays(3650)))
        {
            check.Fail(nameof(options.MaxAge), options.MaxAge.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
                "must be 00:00:00 (no limit) or between 00:01:00 and 3650.00:00:00");
        }
        else if (options.MaxAge != TimeSpan.Zero && options.DuplicateWindow > options.MaxAge)
        {
            check.Fail(nameof(options.DuplicateWindow), options.DuplicateWindow.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
                $"must be at most {JetStreamOptions.Section}:{nameof(options.MaxAge)} ({options.MaxAge:c})");
        }

        if (options.MaxBytes != -1 && options.MaxBytes < 1024 * 1024)
        {
            check.Fail(nameof(options.MaxBytes), options.MaxBytes, "must be -1 (no limit) or at least 1048576 (1 MiB)");
        }

        if (!Enum.IsDefined(options.Retention))
        {
            check.Fail(nameof(options.Retention), options.Retention.ToString(), $"must be one of {string.Join(", ", Enum.GetNames<StreamRetention>())}");
        }

        return check.Result();
    }

    /// <summary>The seeds of <see cref="JetStreamOptions.Url"/>, as the client takes them.</summary>
    public static string[] Seeds(string? url) =>
        (url ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static bool IsUrlList(string? url)
    {
        var seeds = Seeds(url);
        return seeds.Length > 0 && (url ?? "").Split(',').All(s => s.Trim().Length > 0) && seeds.All(seed =>
            Uri.TryCreate(seed, UriKind.Absolute, out var uri) && Schemes.Contains(uri.Scheme) && uri.Host.Length > 0);
    }

    /// <summary>A stream's or a consumer's name, as JetStream takes it (it is also a token of its API subjects).</summary>
    private static bool IsName(string? value) =>
        value is { Length: > 0 and <= 255 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static bool IsSubjectPrefix(string? value) =>
        value is { Length: > 0 and <= 200 } && value.Split('.').All(token =>
            token.Length > 0 && !token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '*' or '>'));
}
