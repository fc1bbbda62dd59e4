using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TrackerService.Streaming;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Streaming;

/// <summary>The stream is created or checked at start, against one real nats-server.</summary>
public sealed class JetStreamStreamTests : IAsyncLifetime
{
    private NatsServer _server = null!;

    public async Task InitializeAsync() => _server = await NatsServer.StartAsync();

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task CreatesTheStreamAsTheSettingsSay()
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = _server.Url });
        var js = new NatsJSContext(nats);
        var options = new JetStreamOptions { Stream = "S1", SubjectPrefix = "t.e", DuplicateWindow = TimeSpan.FromSeconds(30), MaxAge = TimeSpan.FromHours(1), MaxBytes = 1 << 24 };

        await JetStreamStream.EnsureAsync(js, options, NullLogger.Instance, default);

        var config = (await js.GetStreamAsync("S1")).Info.Config;
        Assert.Equal(["t.e.>"], config.Subjects);
        Assert.Equal((1, TimeSpan.FromSeconds(30), TimeSpan.FromHours(1), 1L << 24), (config.NumReplicas, config.DuplicateWindow, config.MaxAge, config.MaxBytes));
        Assert.Equal((StreamConfigRetention.Limits, StreamConfigStorage.File), (config.Retention, config.Storage));
    }

    [Fact]
    public async Task BringsAnExistingStreamToTheSettingsKeepingItsOtherSubjectsAndMessages()
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = _server.Url });
        var js = new NatsJSContext(nats);
        await js.CreateStreamAsync(new StreamConfig("S2", ["other.>"]) { DuplicateWindow = TimeSpan.FromMinutes(1) });
        await js.PublishAsync("other.x", "kept"u8.ToArray());
        var options = new JetStreamOptions { Stream = "S2", SubjectPrefix = "t.e", DuplicateWindow = TimeSpan.FromSeconds(20), MaxAge = TimeSpan.FromDays(2) };

        await JetStreamStream.EnsureAsync(js, options, NullLogger.Instance, default);
        await JetStreamStream.EnsureAsync(js, options, NullLogger.Instance, default); // and once it matches, changes nothing

        var info = (await js.GetStreamAsync("S2")).Info;
        Assert.Equal(["other.>", "t.e.>"], info.Config.Subjects!.Order());
        Assert.Equal((TimeSpan.FromSeconds(20), TimeSpan.FromDays(2)), (info.Config.DuplicateWindow, info.Config.MaxAge));
        Assert.Equal(1, info.State.Messages);
    }

    [Fact]
    public async Task RefusesAStreamWhoseRetentionCantChangeInOneLineThatSaysWhatToDo()
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = _server.Url });
        var js = new NatsJSContext(nats);
        await js.CreateStreamAsync(new StreamConfig("S3", ["t.e.>"]) { Retention = StreamConfigRetention.Workqueue });

        var refused = await Assert.ThrowsAsync<JetStreamStartException>(() =>
            JetStreamStream.EnsureAsync(js, new JetStreamOptions { Stream = "S3", SubjectPrefix = "t.e" }, NullLogger.Instance, default));

        Assert.Contains("JetStream stream S3 has retention Workqueue and storage File, the settings want Limits", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Tracker:JetStream:Retention", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public async Task RefusesMoreReplicasThanTheServersInOneLine()
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = _server.Url });
        var js = new NatsJSContext(nats);
        var refused = await Assert.ThrowsAsync<JetStreamStartException>(() =>
            JetStreamStream.EnsureAsync(js, new JetStreamOptions { Stream = "S4", Replicas = 3 }, NullLogger.Instance, default));

        Assert.StartsWith("JetStream refused stream S4 (tracker.events.>, 3 replicas): ", refused.Message, StringComparison.Ordinal);
    }
}
