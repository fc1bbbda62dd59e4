using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using TrackerService.Events;
using TrackerService.Sinks;
using TrackerService.Streaming;
using TrackerService.Telemetry;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>The JetStream sink against one real nats-server: acks, duplicate acks, rejected rows, and what an outage looks like to the writer.</summary>
public sealed class JetStreamSinkTests : IAsyncLifetime
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private NatsServer _server = null!;

    public async Task InitializeAsync() => _server = await NatsServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task StoresABatchOnceAndAResentOneIsAckedAsDuplicates()
    {
        await using var connection = Connect();
        var sink = await SinkAsync(connection);
        var batch = TrackedEvents.Many(300, "m");

        Assert.Equal(300, await sink.WriteAsync(batch, default));
        Assert.Equal(0, await sink.WriteAsync(batch, default)); // a retry after a lost ack, a replay: all duplicates
        Assert.Equal(50, await sink.WriteAsync([.. batch.Take(100), .. TrackedEvents.Many(50, "n")], default));

        var messages = await StreamReading.ReadAllAsync(_server.Url);
        Assert.Equal(350, messages.Count);
        Assert.Equal(TrackedEvents.Ids(batch).Concat(TrackedEvents.Ids(TrackedEvents.Many(50, "n"))), messages.Select(m => m.MessageId));
        Assert.All(messages, m => Assert.Equal("tracker.events.track", m.Subject));
        Assert.Equal(batch[7], messages[7].Event);
    }

    [Fact]
    public async Task PublishesAtMostMaxInFlightAtOnceAndStillTheWholeBatch()
    {
        await using var connection = Connect(new JetStreamOptions { MaxInFlight = 3 });
        var sink = await SinkAsync(connection);

        Assert.Equal(100, await sink.WriteAsync(TrackedEvents.Many(100, "m"), default));
        Assert.Equal(100, await StreamReading.CountAsync(_server.Url));
    }

    [Fact]
    public async Task ARejectedRowTravelsAsTheStandInThatReadsBackAsTheSameRow()
    {
        await using var connection = Connect();
        var sink = await SinkAsync(connection);
        RejectedEvent[] rows =
        [
            new("m-1", "{\"type\":\"group\",\n\"userId\":\"\u0000\"}", "groupId: Required for a group call.", TrackedEvents.ReceivedAt, "groupId", "web"),
            new("m-2", "{\"messageId\":\"m-2\"}", "numeric field overflow", TrackedEvents.ReceivedAt.AddTicks(1234567)),
        ];

        Assert.Equal(2, await sink.RejectAsync(rows, default));
        Assert.Equal(0, await sink.RejectAsync(rows, default));
        Assert.Equal(1, await sink.WriteAsync([TrackedEvents.One("m-1")], default)); // the valid event of the same id is its own message

        var messages = await StreamReading.ReadAllAsync(_server.Url);
        Assert.Equal(["tracker.events.rejected", "tracker.events.rejected", "tracker.events.track"], messages.Select(m => m.Subject));
        Assert.Equal(["rejected:m-1", "rejected:m-2", "m-1"], messages.Select(m => m.MessageId));
        Assert.Equal(rows, messages.Take(2).Select(m => m.Event!).Select(e => RejectedEvent.FromStandIn(e, e.Rejection!)));
    }

    [Fact]
    public async Task CarriesTheIntakeRequestsSpanInTheHeaders()
    {
        await using var connection = Connect();
        var sink = await SinkAsync(connection);
        var request = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

        await sink.WriteAsync([TrackedEvents.One("m-1") with { Origin = request }, TrackedEvents.One("m-2")], default);

        var messages = await StreamReading.ReadAllAsync(_server.Url);
        Assert.Equal((request.TraceId, request.SpanId), (StreamMessage.Origin(messages[0].Headers).TraceId, StreamMessage.Origin(messages[0].Headers).SpanId));
        Assert.Equal(default, StreamMessage.Origin(messages[1].Headers));
    }

    [Fact]
    public async Task AStreamThatIsGoneIsAnOutageNotABrokenStore()
    {
        await using var connection = Connect();
        var sink = await SinkAsync(connection);
        await connection.JetStream.DeleteStreamAsync("TRACKER_EVENTS");

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => sink.WriteAsync(TrackedEvents.Many(10, "m"), default));

        Assert.True(sink.IsTransient(failure), failure.ToString());
        Assert.False(sink.IsRefused(failure));
    }

    [Fact]
    public async Task AFrozenServerIsAnOutageWithinThePublishTimeout()
    {
        await using var connection = Connect(new JetStreamOptions { PublishTimeout = TimeSpan.FromMilliseconds(500) });
        var sink = await SinkAsync(connection);
        _server.Freeze();
        try
        {
            var clock = Stopwatch.StartNew();
            var failure = await Assert.ThrowsAnyAsync<Exception>(() => sink.WriteAsync(TrackedEvents.Many(10, "m"), default));

            Assert.True(sink.IsTransient(failure), failure.ToString());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the batch failed after {clock.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            _server.Thaw();
        }
    }

    [Fact]
    public async Task TheCallersTokenCutsTheWaitForAcks()
    {
        await using var connection = Connect(new JetStreamOptions { PublishTimeout = TimeSpan.FromMinutes(1) });
        var sink = await SinkAsync(connection);
        _server.Freeze();
        try
        {
            using var shutdown = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            var clock = Stopwatch.StartNew();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sink.WriteAsync(TrackedEvents.Many(10, "m"), shutdown.Token));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the write ended {clock.Elapsed.TotalSeconds:F1} s after it began");
        }
        finally
        {
            _server.Thaw();
        }
    }

    [Fact]
    public void AMessageOverTheServersLimitIsRefusedAndAProtocolErrorIsBroken()
    {
        var sink = new JetStreamSink(new JetStreamConnection(Microsoft.Extensions.Options.Options.Create(new JetStreamOptions()), NullLoggerFactory.Instance),
            TimeProvider.System, new TrackerTelemetry(_services.GetRequiredService<IMeterFactory>()), NullLogger<JetStreamSink>.Instance);

        Assert.True(sink.IsRefused(new NatsPayloadTooLargeException("too large")));
        Assert.True(sink.IsRefused(new NatsJSApiException(new() { Code = 400, ErrCode = 10054, Description = "message size exceeds maximum allowed" })));
        Assert.False(sink.IsTransient(new NatsJSApiException(new() { Code = 400, ErrCode = 10054 })));
        Assert.True(sink.IsTransient(new NatsJSApiException(new() { Code = 503, ErrCode = 10008, Description = "JetStream system temporarily unavailable" })));
        Assert.False(sink.IsTransient(new NatsJSException("a reply it can't read")));
        Assert.False(sink.IsRefused(new TimeoutException()));
    }

    private JetStreamConnection Connect(JetStreamOptions? options = null)
    {
        options ??= new JetStreamOptions();
        options.Url = _server.Url;
        return new JetStreamConnection(Microsoft.Extensions.Options.Options.Create(options), NullLoggerFactory.Instance);
    }

    private async Task<JetStreamSink> SinkAsync(JetStreamConnection connection)
    {
        var sink = new JetStreamSink(connection, TimeProvider.System, new TrackerTelemetry(_services.GetRequiredService<IMeterFactory>()), NullLogger<JetStreamSink>.Instance);
        await sink.InitializeAsync(default);
        return sink;
    }
}
