using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using TrackerService.Events;
using TrackerService.Sinks;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>
/// The sink's resilience pipeline (retry around circuit breaker around per-attempt timeout) over a fake sink, its
/// every wait on a fake clock: what is retried and how often, what gives up, and when the circuit opens and closes.
/// </summary>
public sealed class SinkResilienceTests
{
    private static readonly TrackedEvent[] Batch = TrackedEvents.Many(3, "resilience");

    private readonly FakeTimeProvider _time = new(TrackedEvents.ReceivedAt);
    private readonly CircuitBreakerStateProvider _circuit = new();
    private int _circuitClosed;

    [Fact]
    public async Task RetriesATransientFailureMaxRetryAttemptsTimesThenReportsTheStoreUnavailable()
    {
        // Given a store that is always busy, and 3 retries without backoff
        var sink = Busy(new FakeSink());
        var pipeline = Pipeline(sink, Options(o => { o.MaxRetryAttempts = 3; }));

        // When a batch is written
        var error = await Assert.ThrowsAsync<IOException>(() => WriteAsync(pipeline, sink).WaitAsync(Patience.Default));

        // Then it was tried 4 times, and the failure is the store's last word, taken as "unavailable"
        Assert.Equal(4, sink.Writes);
        Assert.Equal(0, sink.Batches);
        Assert.Equal("The store is busy.", error.Message);
        Assert.True(SinkResilience.IsUnavailable(error, sink.IsTransient));
    }

    [Fact]
    public async Task StoresTheBatchWhenARetrySucceeds()
    {
        // Given a store busy for its first 2 writes
        var sink = Busy(new FakeSink(), writes: 2);
        var pipeline = Pipeline(sink, Options(o => { o.MaxRetryAttempts = 3; }));

        // When a batch is written
        var stored = await WriteAsync(pipeline, sink).WaitAsync(Patience.Default);

        // Then the third try stored it, and no fourth was made
        Assert.Equal(3, stored);
        Assert.Equal(3, sink.Writes);
        Assert.Equal(TrackedEvents.Ids(Batch), sink.Received);
    }

    [Fact]
    public async Task WaitsOutEachBackoffOnTheTimeProvider()
    {
        // Given a store busy for its first 2 writes, and backoffs of up to 10 minutes
        var sink = Busy(new FakeSink(), writes: 2);
        var options = Options(o => { o.MaxRetryAttempts = 3; o.RetryBaseDelay = TimeSpan.FromMinutes(5); o.RetryMaxDelay = TimeSpan.FromMinutes(10); });
        var pipeline = Pipeline(sink, options);

        // When a batch is written
        var write = WriteAsync(pipeline, sink);

        // Then after the first failure the write waits, and nothing is tried again until the clock moves
        Assert.Equal(1, sink.Writes);
        Assert.False(write.IsCompleted);

        // And each move of the fake clock by the longest backoff lets one more try through, the third storing it
        await AdvanceUntilWrittenAsync(sink, writes: 2, options.RetryMaxDelay);
        Assert.False(write.IsCompleted);
        await AdvanceUntilWrittenAsync(sink, writes: 3, options.RetryMaxDelay);
        Assert.Equal(3, await write.WaitAsync(Patience.Default));
        Assert.Equal(3, sink.Writes);
    }

    [Fact]
    public async Task DoesNotRetryAFailureThatIsNotTransientAndDoesNotCallItUnavailable()
    {
        // Given a store that is broken (a failure it does not call transient)
        var sink = new FakeSink()
            .Failing(() => new InvalidOperationException("The store's schema is broken."))
            .TransientWhen(ex => ex is IOException);
        var pipeline = Pipeline(sink, Options(o => { o.MaxRetryAttempts = 3; }));

        // When a batch is written
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => WriteAsync(pipeline, sink).WaitAsync(Patience.Default));

        // Then it was tried once, and the failure is not "unavailable": the batch is not the spill's to keep
        Assert.Equal(1, sink.Writes);
        Assert.False(SinkResilience.IsWorthRetrying(error, sink.IsTransient));
        Assert.False(SinkResilience.IsUnavailable(error, sink.IsTransient));
    }

    [Fact]
    public async Task AbandonsAnAttemptLongerThanAttemptTimeoutAndRetriesIt()
    {
        // Given a store that holds its first write until cancelled, and attempts of at most 2 s
        var sink = new FakeSink().HoldingWrites(1);
        var pipeline = Pipeline(sink, Options(o => { o.AttemptTimeout = TimeSpan.FromSeconds(2); o.MaxRetryAttempts = 3; }));

        // When a batch is written and the clock reaches one tick short of the timeout
        var write = WriteAsync(pipeline, sink);
        _time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1));

        // Then the first attempt is still going
        Assert.Equal(1, sink.Writes);
        Assert.Equal(0, sink.Abandoned);
        Assert.False(write.IsCompleted);

        // When the clock reaches the timeout
        _time.Advance(TimeSpan.FromTicks(1));

        // Then that attempt is cancelled, and the next one stores the batch
        Assert.Equal(3, await write.WaitAsync(Patience.Default));
        Assert.Equal(1, sink.Abandoned);
        Assert.Equal(2, sink.Writes);
        Assert.Equal(1, sink.Batches);
    }

    [Fact]
    public async Task ReportsAStoreThatTimesOutOnEveryAttemptAsUnavailable()
    {
        // Given a store that holds every write until cancelled, attempts of at most 2 s, and 1 retry
        var sink = new FakeSink().HoldingWrites();
        var pipeline = Pipeline(sink, Options(o => { o.AttemptTimeout = TimeSpan.FromSeconds(2); o.MaxRetryAttempts = 1; }));

        // When a batch is written and both attempts run out of time
        var write = WriteAsync(pipeline, sink);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(sink.Writes == 2), Patience.Default), "no second attempt");
        _time.Advance(TimeSpan.FromSeconds(2));
        var error = await Assert.ThrowsAsync<TimeoutRejectedException>(() => write.WaitAsync(Patience.Default));

        // Then both were abandoned, and the store counts as unavailable though the sink calls no failure transient
        Assert.Equal(2, sink.Abandoned);
        Assert.Equal(2, sink.Writes);
        Assert.True(SinkResilience.IsUnavailable(error, sink.IsTransient));
    }

    [Fact]
    public async Task OpensTheCircuitOnceEnoughAttemptsFailAndThenFailsAWriteAtOnceWithoutCallingTheSink()
    {
        // Given a store that fails 4 writes, 1 retry per batch, and a circuit that opens on half of at least 4 attempts
        var sink = Busy(new FakeSink(), writes: 4);
        var pipeline = Pipeline(sink, Options(o => { o.MaxRetryAttempts = 1; o.CircuitMinimumThroughput = 4; o.CircuitFailureRatio = 0.5; }));

        // When two batches fail, two attempts each
        await Assert.ThrowsAsync<IOException>(() => WriteAsync(pipeline, sink).WaitAsync(Patience.Default));
        var closedAfterThree = _circuit.CircuitState;
        await Assert.ThrowsAsync<IOException>(() => WriteAsync(pipeline, sink).WaitAsync(Patience.Default));

        // Then the circuit stayed closed below the minimum throughput and opened on the fourth failure
        Assert.Equal(4, sink.Writes);
        Assert.Equal(CircuitState.Closed, closedAfterThree);
        Assert.Equal(CircuitState.Open, _circuit.CircuitState);

        // And the next batch fails at once, without reaching the sink and without a retry, as "unavailable"
        var error = await Assert.ThrowsAsync<BrokenCircuitException>(() => WriteAsync(pipeline, sink).WaitAsync(Patience.Default));
        Assert.Equal(4, sink.Writes);
        Assert.True(SinkResilience.IsUnavailable(error, sink.IsTransient));
    }

    [Theory]
    [InlineData(0.5, CircuitState.Open)]
    [InlineData(0.6, CircuitState.Closed)]
    public async Task OpensTheCircuitOnlyWhenTheShareOfFailedAttemptsReachesTheFailureRatio(double ratio, CircuitState expected)
    {
        // Given a store that takes 2 writes and then fails 2, 1 retry per batch, and a circuit needing 4 attempts
        var sink = Busy(new FakeSink(), writes: 2, after: 2);
        var pipeline = Pipeline(sink, Options(o => { o.MaxRetryAttempts = 1; o.CircuitMinimumThroughput = 4; o.CircuitFailureRatio = ratio; }));

        // When two batches are stored and a third fails both its attempts: 2 of 4 attempts failed
        await WriteAsync(pipeline, sink).WaitAsync(Patience.Default);
        await WriteAsync(pipeline, sink).WaitAsync(Patience.Default);
        await Assert.ThrowsAsync<IOException>(() => WriteAsync(pipeline, sink).WaitAsync(Patience.Default));

        // Then the circuit opened at a ratio of 0.5, not at 0.6, and the next batch reaches the sink only if it is closed
        Assert.Equal(4, sink.Writes);
        Assert.Equal(expected, _circuit.CircuitState);
        var next = WriteAsync(pipeline, sink).WaitAsync(Patience.Default);
        if (expected == CircuitState.Open)
        {
            await Assert.ThrowsAsync<BrokenCircuitException>(() => next);
            Assert.Equal(4, sink.Writes);
        }
        else
        {
            await next;
            Assert.Equal(5, sink.Writes);
            Assert.Equal(3, sink.Batches);
        }
    }

    [Fact]
    public async Task LetsAProbeThroughAfterTheBreakDurationAndClosesTheCircuitWhenItSucceeds()
    {
        // Given a circuit opened by 4 failed attempts, with a 1 minute break
        var sink = Busy(new FakeSink(), writes: 4);
        var options = Options(o => { o.MaxRetryAttempts = 1; o.CircuitMinimumThroughput = 4; o.CircuitBreakDuration = TimeSpan.FromMinutes(1); });
        var pipeline = Pipeline(sink, options);
        await Assert.ThrowsAsync<IOException>(() => WriteAsync(pipeline, sink).WaitAsync(Patience.Default));
        await Assert.ThrowsAsync<IOException>(() => WriteAsync(pipeline, sink).WaitAsync(Patience.Default));
        Assert.Equal(CircuitState.Open, _circuit.CircuitState);

        // When a batch is written one tick before the break is over
        _time.Advance(options.CircuitBreakDuration - TimeSpan.FromTicks(1));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => WriteAsync(pipeline, sink).WaitAsync(Patience.Default));

        // Then it did not reach the sink, and the circuit is not closed
        Assert.Equal(4, sink.Writes);
        Assert.Equal(0, Volatile.Read(ref _circuitClosed));

        // When the break is over and a batch is written
        _time.Advance(TimeSpan.FromTicks(1));
        var stored = await WriteAsync(pipeline, sink).WaitAsync(Patience.Default);

        // Then that probe reached the (healthy again) sink, closed the circuit, and the owner was told, once
        Assert.Equal(3, stored);
        Assert.Equal(5, sink.Writes);
        Assert.Equal(CircuitState.Closed, _circuit.CircuitState);
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref _circuitClosed) > 0), Patience.Default), "onCircuitClosed was not called");

        // And writes go through as before
        await WriteAsync(pipeline, sink).WaitAsync(Patience.Default);
        Assert.Equal(6, sink.Writes);
        Assert.Equal(1, Volatile.Read(ref _circuitClosed));
    }

    [Fact]
    public async Task CountsOnlyTheAttemptsWithinTheSamplingDuration()
    {
        // Given a store that fails 4 writes, and a circuit sampling 1 minute that opens on half of at least 4 attempts
        var sink = Busy(new FakeSink(), writes: 4);
        var options = Options(o => { o.MaxRetryAttempts = 1; o.CircuitMinimumThroughput = 4; o.CircuitSamplingDuration = TimeSpan.FromMinutes(1); });
        var pipeline = Pipeline(sink, options);

        // When two attempts fail, then two more only once the first two are out of the window
        await Assert.ThrowsAsync<IOException>(() => WriteAsync(pipeline, sink).WaitAsync(Patience.Default));
        _time.Advance(options.CircuitSamplingDuration + TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<IOException>(() => WriteAsync(pipeline, sink).WaitAsync(Patience.Default));

        // Then the circuit is still closed, and the next write reaches the sink
        Assert.Equal(CircuitState.Closed, _circuit.CircuitState);
        Assert.Equal(3, await WriteAsync(pipeline, sink).WaitAsync(Patience.Default));
        Assert.Equal(5, sink.Writes);
    }

    [Fact]
    public void CountsATimedOutAttemptOrATransientFailureAsWorthRetryingAndAnOpenCircuitAsUnavailable()
    {
        static bool IsTransient(Exception ex) => ex is IOException;

        Assert.True(SinkResilience.IsWorthRetrying(new TimeoutRejectedException(), IsTransient));
        Assert.True(SinkResilience.IsWorthRetrying(new IOException(), IsTransient));
        Assert.False(SinkResilience.IsWorthRetrying(new BrokenCircuitException(), IsTransient));
        Assert.False(SinkResilience.IsWorthRetrying(new InvalidOperationException(), IsTransient));

        Assert.True(SinkResilience.IsUnavailable(new BrokenCircuitException(), IsTransient));
        Assert.True(SinkResilience.IsUnavailable(new TimeoutRejectedException(), IsTransient));
        Assert.True(SinkResilience.IsUnavailable(new IOException(), IsTransient));
        Assert.False(SinkResilience.IsUnavailable(new InvalidOperationException(), IsTransient));
    }

    /// <summary>
    /// Sink options for these tests, as <paramref name="change"/> sets them over: no backoff (retries come at once; a
    /// test that wants backoff sets it), attempts that never time out, and a circuit that needs 100 attempts to open.
    /// </summary>
    private static SinkOptions Options(Action<SinkOptions> change)
    {
        var options = new SinkOptions
        {
            MaxRetryAttempts = 3,
            RetryBaseDelay = TimeSpan.Zero,
            RetryMaxDelay = TimeSpan.FromSeconds(1),
            AttemptTimeout = TimeSpan.FromHours(1),
            CircuitMinimumThroughput = 100,
            CircuitFailureRatio = 0.5,
            CircuitSamplingDuration = TimeSpan.FromHours(1),
            CircuitBreakDuration = TimeSpan.FromMinutes(1),
        };
        change(options);
        return options;
    }

    /// <summary><paramref name="writes"/> writes, after the first <paramref name="after"/>, fail with a transient <see cref="IOException"/>.</summary>
    private static FakeSink Busy(FakeSink sink, int writes = int.MaxValue, int after = 0) =>
        sink.Failing(() => new IOException("The store is busy."), writes, after).TransientWhen(ex => ex is IOException);

    /// <summary>Writes the batch through the pipeline as <see cref="SinkWriter"/> does.</summary>
    private static Task<int> WriteAsync(ResiliencePipeline pipeline, FakeSink sink) =>
        pipeline.ExecuteAsync(
            static (sink, token) => new ValueTask<int>(sink.WriteAsync(Batch, token).WaitAsync(token)),
            sink,
            CancellationToken.None).AsTask();

    private ResiliencePipeline Pipeline(FakeSink sink, SinkOptions options)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = _time };
        SinkResilience.Configure(builder, options, sink.IsTransient, _circuit, () => Interlocked.Increment(ref _circuitClosed));
        return builder.Build();
    }

    /// <summary>
    /// Moves the fake clock on by <paramref name="step"/> (at least the longest backoff) whenever the sink has not yet
    /// been called <paramref name="writes"/> times, until it has; fails if it takes longer than <see cref="Patience"/>.
    /// </summary>
    private async Task AdvanceUntilWrittenAsync(FakeSink sink, int writes, TimeSpan step)
    {
        var reached = await Eventually.TrueAsync(() =>
        {
            if (sink.Writes < writes)
            {
                _time.Advance(step);
            }

            return Task.FromResult(sink.Writes >= writes);
        }, Patience.Default);
        Assert.True(reached, $"the sink was called {sink.Writes} times, not {writes}");
        Assert.Equal(writes, sink.Writes);
    }
}
