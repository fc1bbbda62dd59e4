using Microsoft.Extensions.Options;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Hosting;

/// <summary>An invalid setting stops the service at start with a message naming the key and the value.</summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("Tracker:Queue:Capacity", "0", "Tracker:Queue:Capacity = '0'")]
    [InlineData("Tracker:Queue:EnqueueTimeout", "-00:00:01", "Tracker:Queue:EnqueueTimeout = '-00:00:01'")]
    [InlineData("Tracker:Queue:MaxWaitingEvents", "-1", "Tracker:Queue:MaxWaitingEvents = '-1'")]
    [InlineData("Tracker:Delivery:Consumers", "0", "Tracker:Delivery:Consumers = '0'")]
    [InlineData("Tracker:Delivery:BatchSize", "-5", "Tracker:Delivery:BatchSize = '-5'")]
    [InlineData("Tracker:Delivery:FlushInterval", "00:00:00", "Tracker:Delivery:FlushInterval = '00:00:00'")]
    [InlineData("Tracker:Api:MaxBodyBytes", "10", "Tracker:Api:MaxBodyBytes = '10'")]
    [InlineData("Tracker:Api:MaxBatchEvents", "200000", "Tracker:Api:MaxBatchEvents = '200000'")]
    [InlineData("Tracker:Sink:AttemptTimeout", "00:00:00", "Tracker:Sink:AttemptTimeout = '00:00:00'")]
    [InlineData("Tracker:AdminUrl", "ftp://x", "Tracker:AdminUrl = 'ftp://x'")]
    [InlineData("Tracker:Sink:Kind", "Foo", "Tracker:Sink:Kind = 'Foo' is invalid: it must be one of Sqlite, Postgres, JetStream.")]
    [InlineData("Tracker:Sink:Kind", "7", "Tracker:Sink:Kind = '7' is invalid")]
    [InlineData("Tracker:Queue:Capacity", "lots", "Tracker:Queue:Capacity = 'lots' is invalid: it must be a whole number.")]
    [InlineData("Tracker:Delivery:FlushInterval", "soon", "Tracker:Delivery:FlushInterval = 'soon' is invalid: it must be a duration")]
    [InlineData("Tracker:Spill:ReplayBatchSize", "0", "Tracker:Spill:ReplayBatchSize = '0'")]
    [InlineData("Kestrel:Limits:MaxConcurrentConnections", "0", "Kestrel:Limits:MaxConcurrentConnections = '0' is invalid: it must be between 1 and 1000000.")]
    [InlineData("Kestrel:Limits:RequestHeadersTimeout", "00:00:00", "Kestrel:Limits:RequestHeadersTimeout = '00:00:00'")]
    [InlineData("Kestrel:Limits:KeepAliveTimeout", "02:00:00", "Kestrel:Limits:KeepAliveTimeout = '02:00:00'")]
    [InlineData("Tracker:Queue:MaxBytes", "1000", "Tracker:Queue:MaxBytes = '1000' is invalid: it must be between 1048576 (1 MiB)")]
    [InlineData("Tracker:Queue:MaxWaitingBytes", "-1", "Tracker:Queue:MaxWaitingBytes = '-1'")]
    [InlineData("Tracker:Durability", "Disc", "Tracker:Durability:Mode = 'Disc' is invalid: it must be Memory or Disk")]
    [InlineData("Tracker:Durability:MaxBytes", "1000", "Tracker:Durability:MaxBytes = '1000'")]
    public async Task RefusesToStartWithAnInvalidSetting(string key, string value, string expected)
    {
        await using var app = TrackerHost.Build(new() { [key] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusesAQueueSmallerThanOneRequest()
    {
        await using var app = TrackerHost.Build(new() { ["Tracker:Queue:Capacity"] = "100", ["Tracker:Api:MaxBatchEvents"] = "500" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Tracker:Queue:Capacity = '100'", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxBatchEvents (500)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusesAQueueByteBoundSmallerThanTwiceTheLargestBody()
    {
        // A body's events can take twice its size in memory (strings as UTF-16)
        await using var app = TrackerHost.Build(new() { ["Tracker:Queue:MaxBytes"] = "3145728", ["Tracker:Api:MaxBodyBytes"] = "2097152" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Tracker:Queue:MaxBytes = '3145728' is invalid: it must be at least twice Tracker:Api:MaxBodyBytes (4194304)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusesThePostgresSinkWithoutItsConnectionString()
    {
        await using var app = TrackerHost.Build(new() { ["Tracker:Sink:Kind"] = "Postgres" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Tracker:Sink:Kind = 'Postgres' is invalid: it needs ConnectionStrings:Postgres", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartsWithTheDefaults()
    {
        await using var app = TrackerHost.Build([]);

        await app.StartAsync();

        await app.StopAsync();
    }
}
