using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Events;
using TrackerService.Sinks;
using TrackerService.Spill;
using TrackerService.Telemetry;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>
/// A batch the store refuses for some of its events' data: the writer splits it to find them, stores the rest, and
/// keeps each refused one in the dead-letter table, in about 2·log2(n) writes, never throwing.
/// </summary>
public sealed class RefusedEventTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(TrackedEvents.ReceivedAt);
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly TrackerTelemetry _telemetry;
    private readonly CounterRecorder _rejected;

    public RefusedEventTests()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        _telemetry = new TrackerTelemetry(meters);
        _rejected = new CounterRecorder(meters, "tracker.events.rejected");
    }

    public void Dispose()
    {
        _rejected.Dispose();
        _telemetry.Dispose();
        _services.Dispose();
    }

    [Fact]
    public async Task StoresTheRestOfABatchWithOnePoisonEventAndKeepsThePoisonInLogarithmicallyManyWrites()
    {
        // Given a batch of 1000 events, one of which (the 618th) the store refuses
        var batch = TrackedEvents.Many(1000, "batch");
        var poison = batch[617];
        var sink = new FakeSink().Refusing(poison.MessageId);
        var writer = Writer(sink);
        using var span = new Activity("batch").Start();

        // When the batch is written
        var stored = await writer.WriteAsync(batch, span, CancellationToken.None).WaitAsync(Patience.Default);

        // Then the 999 others are stored, the poison is kept with the store's reason and its JSON, once
        Assert.Equal(999, stored);
        Assert.Equal(999, sink.Stored.Count);
        Assert.DoesNotContain(poison.MessageId, sink.Stored.Keys);
        var rejected = Assert.Single(sink.Rejected);
        Assert.Equal(poison.MessageId, rejected.MessageId);
        Assert.Equal($"The fake store refuses {poison.MessageId}.", rejected.Reason);
        Assert.Equal(poison.ReceivedAt, rejected.ReceivedAt);
        Assert.Equal(Encoding.UTF8.GetString(TrackedEvents.Lines(poison)).TrimEnd('\n'), rejected.Raw);

        // And it took the first write plus two per halving (2·⌈log2 1000⌉ = 20), not one per event
        Assert.InRange(sink.Writes, 2, 1 + (2 * (int)Math.Ceiling(Math.Log2(batch.Length))));
        Assert.Equal(sink.Writes, span.GetTagItem(TrackerTelemetry.TagBatchAttempts));
        Assert.Equal(999, span.GetTagItem(TrackerTelemetry.TagBatchStored));
        Assert.Equal(1, span.GetTagItem(TrackerTelemetry.TagBatchRefused));
        Assert.Equal(["1 reason=store_refused"], _rejected.Measurements);
    }

    [Fact]
    public async Task FindsEveryRefusedEventOfABatch()
    {
        // Given a batch of 200 whose first, last and one middle event the store refuses
        var batch = TrackedEvents.Many(200, "many");
        string[] poison = [batch[0].MessageId, batch[99].MessageId, batch[199].MessageId];
        var sink = new FakeSink().Refusing(poison);

        // When it is written, twice (a replay done again)
        Assert.Equal(197, await Writer(sink).WriteAsync(batch, span: null, CancellationToken.None).WaitAsync(Patience.Default));
        Assert.Equal(0, await Writer(sink).WriteAsync(batch, span: null, CancellationToken.None).WaitAsync(Patience.Default));

        // Then the 197 others are stored and the 3 kept, each once
        Assert.Equal(197, sink.Stored.Count);
        Assert.Equal(poison.Order(StringComparer.Ordinal), sink.Rejected.Select(r => r.MessageId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task DoesNotSplitABatchForAFailureThatIsNotTheData()
    {
        // Given a store that is broken (neither busy nor refusing data), and one that is down
        var broken = new FakeSink().Failing(() => new InvalidOperationException("no such table: events"));
        var down = FakeSink.Unreachable();
        var batch = TrackedEvents.Many(100, "broken");

        // When a batch is written to each
        await Assert.ThrowsAsync<InvalidOperationException>(() => Writer(broken).WriteAsync(batch, span: null, CancellationToken.None).WaitAsync(Patience.Default));
        var toDown = Writer(down);
        var outage = await Assert.ThrowsAnyAsync<Exception>(() => toDown.WriteAsync(batch, span: null, CancellationToken.None).WaitAsync(Patience.Default));

        // Then the failure goes to the caller as before (stop; spill), without a split: one write, or the retries of one
        Assert.Equal(1, broken.Writes);
        Assert.True(toDown.IsUnavailable(outage), outage.ToString());
        Assert.InRange(down.Writes, 1, 1 + new SinkOptions().MaxRetryAttempts);
        Assert.Empty(broken.Rejected);
        Assert.Empty(down.Rejected);
    }

    [Fact]
    public async Task AnOutageDuringASplitLeavesTheBatchToTheCallerAndAWriteAgainFinishesIt()
    {
        // Given a batch of 8 whose last event the store refuses, and a store that goes down (2 writes, 1 retry)
        // just after the first half of the split was stored
        var batch = TrackedEvents.Many(8, "outage");
        var sink = new FakeSink()
            .Refusing(batch[7].MessageId)
            .Failing(() => new TimeoutException("The store does not answer."), writes: 2, after: 2)
            .TransientWhen(ex => ex is TimeoutException);
        var writer = new SinkWriter(sink, new SinkPipeline(new SinkOptions { MaxRetryAttempts = 1, RetryBaseDelay = TimeSpan.Zero, CircuitMinimumThroughput = 100 },
            sink.IsTransient, _time),
            _time, _telemetry);

        // When the batch is written
        var outage = await Assert.ThrowsAsync<TimeoutException>(() => writer.WriteAsync(batch, span: null, CancellationToken.None).WaitAsync(Patience.Default));

        // Then the caller gets the outage (it spills the whole batch), with the first half stored and nothing dead-lettered
        Assert.True(writer.IsUnavailable(outage));
        Assert.Equal(4, sink.Stored.Count);
        Assert.Empty(sink.Rejected);

        // And writing the batch again (its replay) stores the other 3 and keeps the refused one
        Assert.Equal(3, await writer.WriteAsync(batch, span: null, CancellationToken.None).WaitAsync(Patience.Default));
        Assert.Equal(7, sink.Stored.Count);
        Assert.Equal(batch[7].MessageId, Assert.Single(sink.Rejected).MessageId);
    }

    [Fact]
    public void KeepsARefusedEventAsOneSpillLineThatReadsBackAsTheSameEvent()
    {
        // Every field set, with text that needs escaping
        var e = new TrackedEvent("m-\"1\"", EventType.Identify, "Sign\nup", "u-1", "a-1", TrackedEvents.ReceivedAt.AddHours(-1),
            TrackedEvents.ReceivedAt.AddMinutes(-1), TrackedEvents.ReceivedAt, """{"n":1e999999}""", """{"name":"Zoë"}""", """{"ip":"::1"}""");

        // Its raw text is one line that the spill reads back as the same event: mended, it can be replayed
        var raw = EventLine.ToJson(e);
        Assert.DoesNotContain('\n', raw);
        Assert.Equal(e, SpillFormat.Read(Encoding.UTF8.GetBytes(raw)));
    }

    private SinkWriter Writer(FakeSink sink) =>
        new(sink, new SinkPipeline(new SinkOptions { RetryBaseDelay = TimeSpan.Zero }, sink.IsTransient, _time), _time, _telemetry);
}
