using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Events;
using TrackerService.Sinks;
using TrackerService.Telemetry;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>The sink behind the named resilience pipeline, on a fake clock: what a write tells its span, and how an attempt ends.</summary>
public sealed class SinkWriterTests : IDisposable
{
    private static readonly TrackedEvent[] Batch = TrackedEvents.Many(3, "writer");

    private readonly FakeTimeProvider _time = new(TrackedEvents.ReceivedAt);
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly TrackerTelemetry _telemetry;

    public SinkWriterTests() => _telemetry = new TrackerTelemetry(_services.GetRequiredService<IMeterFactory>());

    public void Dispose()
    {
        _telemetry.Dispose();
        _services.Dispose();
    }

    [Fact]
    public async Task TellsTheBatchSpanTheSinkTheAttemptsAndWhatWasNewlyStored()
    {
        // Given a store that already holds one event of the batch and is busy for its first 2 writes
        var sink = new FakeSink()
            .Seed(Batch[0])
            .Failing(() => new IOException("The store is busy."), writes: 2)
            .TransientWhen(ex => ex is IOException);
        var writer = Writer(sink, new SinkOptions { MaxRetryAttempts = 3, RetryBaseDelay = TimeSpan.Zero });
        using var span = new Activity("batch").Start();

        // When the batch is written
        var stored = await writer.WriteAsync(Batch, span, CancellationToken.None).WaitAsync(Patience.Default);

        // Then the third attempt stored the two events it did not have, and the span says so
        Assert.Equal(2, stored);
        Assert.Equal("fake", span.GetTagItem(TrackerTelemetry.TagSink));
        Assert.Equal(3, span.GetTagItem(TrackerTelemetry.TagBatchAttempts));
        Assert.Equal(2, span.GetTagItem(TrackerTelemetry.TagBatchStored));
    }

    [Fact]
    public async Task KeepsEventsRefusedAtIntakeInTheDeadLetterTableAndStoresTheRest()
    {
        // Given a batch in which the intake refused one event (it came through the queue or the spill like the others)
        var refused = TrackedEvents.One("writer-refused") with
        {
            Source = "web",
            Rejection = new EventRejection("""{"type":"group","userId":"u"}""", "groupId: Required for a group call.", "groupId"),
        };
        var sink = new FakeSink();
        var writer = Writer(sink, new SinkOptions());

        // When the batch is written
        var stored = await writer.WriteAsync([Batch[0], refused, Batch[1]], span: null, CancellationToken.None).WaitAsync(Patience.Default);

        // Then the others are stored, and the refused one is kept as the client sent it, with why and its source
        Assert.Equal(2, stored);
        Assert.Equal([Batch[0].MessageId, Batch[1].MessageId], sink.Stored.Keys.Order());
        var kept = Assert.Single(sink.Rejected);
        Assert.Equal(("writer-refused", """{"type":"group","userId":"u"}""", "groupId", "web"), (kept.MessageId, kept.Raw, kept.Field, kept.Source));
    }

    [Fact]
    public async Task CountsTheEventsTheStoreAlreadyHeldAsDuplicates()
    {
        // Given a store that already holds one event of the batch
        using var stored = new CounterRecorder(_services.GetRequiredService<IMeterFactory>(), "tracker.events.stored");
        using var duplicates = new CounterRecorder(_services.GetRequiredService<IMeterFactory>(), "tracker.events.duplicates");
        var writer = Writer(new FakeSink().Seed(Batch[0]), new SinkOptions());

        // When the batch is written, then written again (a replay of what was stored)
        await writer.WriteAsync(Batch, span: null, CancellationToken.None).WaitAsync(Patience.Default);
        await writer.WriteAsync(Batch, span: null, CancellationToken.None).WaitAsync(Patience.Default);

        // Then stored + duplicates account for every event written: 2 + 1, then 0 + 3
        Assert.Equal(["2"], stored.Measurements.Where(m => m != "0"));
        Assert.Equal(["1", "3"], duplicates.Measurements);
    }

    [Fact]
    public async Task TellsTheBatchSpanTheAttemptsOfAWriteThatFailed()
    {
        // Given a store that is always busy, and 1 retry
        var sink = FakeSink.Unreachable();
        var writer = Writer(sink, new SinkOptions { MaxRetryAttempts = 1, RetryBaseDelay = TimeSpan.Zero });
        using var span = new Activity("batch").Start();

        // When the batch is written
        var error = await Assert.ThrowsAsync<TimeoutException>(() => writer.WriteAsync(Batch, span, CancellationToken.None).WaitAsync(Patience.Default));

        // Then both attempts are on the span, nothing stored is, and the store is unavailable, not broken
        Assert.Equal(2, span.GetTagItem(TrackerTelemetry.TagBatchAttempts));
        Assert.Null(span.GetTagItem(TrackerTelemetry.TagBatchStored));
        Assert.Equal(2, sink.Writes);
        Assert.True(writer.IsUnavailable(error));
    }

    [Fact]
    public async Task EndsAnAttemptAtItsTimeoutEvenWhenTheSinkIgnoresCancellation()
    {
        // Given a store whose first write hangs, deaf to cancellation, and attempts of at most 2 s
        var sink = new FakeSink().HoldingWrites(1).IgnoringCancellation();
        var writer = Writer(sink, new SinkOptions { AttemptTimeout = TimeSpan.FromSeconds(2), RetryBaseDelay = TimeSpan.Zero });

        // When the batch is written and the clock reaches the timeout
        var write = writer.WriteAsync(Batch, span: null, CancellationToken.None);
        Assert.Equal(1, sink.Writes);
        _time.Advance(TimeSpan.FromSeconds(2));

        // Then the write did not wait for the hung call: the next attempt stored the batch
        Assert.Equal(3, await write.WaitAsync(Patience.Default));
        Assert.Equal(2, sink.Writes);
        Assert.Equal(0, sink.Abandoned);
        sink.Open(); // the hung call returns, storing nothing new
    }

    [Fact]
    public async Task StopsRetryingWhenTheCallersTokenFires()
    {
        // Given a store that is always busy, and backoffs on the fake clock that never moves
        var sink = FakeSink.Unreachable();
        var writer = Writer(sink, new SinkOptions { MaxRetryAttempts = 4, RetryBaseDelay = TimeSpan.FromMinutes(1) });
        using var deadline = new CancellationTokenSource();

        // When the batch is written, and the caller's deadline fires during the first backoff
        var write = writer.WriteAsync(Batch, span: null, deadline.Token);
        await deadline.CancelAsync();

        // Then the write ends cancelled, after the one attempt
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => write.WaitAsync(Patience.Default));
        Assert.Equal(1, sink.Writes);
    }

    [Fact]
    public void CallsAFailureUnavailableByTheSinksOwnIdeaOfTransient()
    {
        var writer = Writer(new FakeSink().TransientWhen(ex => ex is IOException), new SinkOptions());

        Assert.True(writer.IsUnavailable(new IOException()));
        Assert.False(writer.IsUnavailable(new InvalidOperationException()));
    }

    private SinkWriter Writer(FakeSink sink, SinkOptions options) =>
        new(sink, new SinkPipeline(options, sink.IsTransient, _time), _time, _telemetry);
}
