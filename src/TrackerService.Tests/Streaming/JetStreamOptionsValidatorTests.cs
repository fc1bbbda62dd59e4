using TrackerService.Streaming;

namespace TrackerService.Tests.Streaming;

public sealed class JetStreamOptionsValidatorTests
{
    [Fact]
    public void TheDefaultsAreValid() => Assert.True(new JetStreamOptionsValidator().Validate(null, new JetStreamOptions()).Succeeded);

    [Theory]
    [InlineData("nats://127.0.0.1:4222")]
    [InlineData("nats://n1:4222,nats://n2:4222, nats://n3:4222")]
    [InlineData("tls://nats.example.com:4222")]
    public void TakesAServerOrAListOfSeeds(string url) =>
        Assert.True(new JetStreamOptionsValidator().Validate(null, new JetStreamOptions { Url = url }).Succeeded);

    [Theory]
    [InlineData(nameof(JetStreamOptions.Url), "", "must be a NATS URL (nats://host:4222) or a comma-separated list of them")]
    [InlineData(nameof(JetStreamOptions.Url), "127.0.0.1:4222", "must be a NATS URL")]
    [InlineData(nameof(JetStreamOptions.Url), "nats://n1:4222,,nats://n2:4222", "must be a NATS URL")]
    [InlineData(nameof(JetStreamOptions.Url), "http://n1:4222", "must be a NATS URL")]
    [InlineData(nameof(JetStreamOptions.Stream), "TRACKER.EVENTS", "must be a stream name")]
    [InlineData(nameof(JetStreamOptions.Stream), "", "must be a stream name")]
    [InlineData(nameof(JetStreamOptions.Consumer), "tracker loader", "must be a consumer name")]
    [InlineData(nameof(JetStreamOptions.SubjectPrefix), "tracker.*", "must be a subject such as tracker.events")]
    [InlineData(nameof(JetStreamOptions.SubjectPrefix), "tracker..events", "must be a subject")]
    [InlineData(nameof(JetStreamOptions.SubjectPrefix), "tracker.events.", "must be a subject")]
    [InlineData(nameof(JetStreamOptions.SubjectPrefix), "tracker events", "must be a subject")]
    [InlineData(nameof(JetStreamOptions.Replicas), "0", "must be between 1 and 5")]
    [InlineData(nameof(JetStreamOptions.Replicas), "6", "must be between 1 and 5")]
    [InlineData(nameof(JetStreamOptions.DuplicateWindow), "00:00:00", "must be between 00:00:01 and 1.00:00:00")]
    [InlineData(nameof(JetStreamOptions.MaxAge), "00:00:30", "must be 00:00:00 (no limit) or between 00:01:00 and 3650.00:00:00")]
    [InlineData(nameof(JetStreamOptions.MaxBytes), "1000", "must be -1 (no limit) or at least 1048576 (1 MiB)")]
    [InlineData(nameof(JetStreamOptions.MaxBytes), "-2", "must be -1 (no limit)")]
    [InlineData(nameof(JetStreamOptions.AckWait), "00:00:00", "must be between 00:00:01 and 01:00:00")]
    [InlineData(nameof(JetStreamOptions.MaxAckPending), "0", "must be between 1 and 1000000")]
    [InlineData(nameof(JetStreamOptions.PublishTimeout), "00:00:00.010", "must be between 00:00:00.1000000 and 00:05:00")]
    [InlineData(nameof(JetStreamOptions.MaxInFlight), "0", "must be between 1 and 100000")]
    [InlineData(nameof(JetStreamOptions.FetchBatch), "20001", "must be between 1 and 20000")]
    [InlineData(nameof(JetStreamOptions.FetchExpires), "00:00:00.500", "must be between 00:00:01 and 00:05:00")]
    public void RefusesABadValueNamingItsKeyAndValue(string key, string value, string rule)
    {
        var options = new JetStreamOptions();
        var property = typeof(JetStreamOptions).GetProperty(key)!;
        property.SetValue(options, property.PropertyType == typeof(string) ? value
            : property.PropertyType == typeof(TimeSpan) ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
            : Convert.ChangeType(value, property.PropertyType, System.Globalization.CultureInfo.InvariantCulture));

        var result = new JetStreamOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"Tracker:JetStream:{key} = '", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains($"' is invalid: it {rule}", result.FailureMessage, StringComparison.Ordinal);
        Assert.Single(result.Failures!);
    }

    [Fact]
    public void RefusesADuplicateWindowLongerThanTheStreamKeepsMessages()
    {
        var options = new JetStreamOptions { MaxAge = TimeSpan.FromMinutes(5), DuplicateWindow = TimeSpan.FromMinutes(10) };

        var result = new JetStreamOptionsValidator().Validate(null, options);

        Assert.Equal("Tracker:JetStream:DuplicateWindow = '00:10:00' is invalid: it must be at most Tracker:JetStream:MaxAge (00:05:00).", Assert.Single(result.Failures!));
    }

    [Fact]
    public void TakesNoAgeLimit() =>
        Assert.True(new JetStreamOptionsValidator().Validate(null, new JetStreamOptions { MaxAge = TimeSpan.Zero, DuplicateWindow = TimeSpan.FromHours(1) }).Succeeded);

    [Fact]
    public void RefusesAnUnknownRetention()
    {
        var result = new JetStreamOptionsValidator().Validate(null, new JetStreamOptions { Retention = (StreamRetention)7 });

        Assert.Equal("Tracker:JetStream:Retention = '7' is invalid: it must be one of Limits, WorkQueue, Interest.", Assert.Single(result.Failures!));
    }
}
