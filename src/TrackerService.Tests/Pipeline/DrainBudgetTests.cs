using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Pipeline;

namespace TrackerService.Tests.Pipeline;

/// <summary>The shutdown's one time budget, on a fake clock: the time left, the deadline, and the spill reserve rule.</summary>
public sealed class DrainBudgetTests
{
    /// <summary>How often the budget checks the spill reserve (DrainBudget's own interval).</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>What the budget spills in one second at its planned rate.</summary>
    private static readonly PendingEvents FortyMegabytes = new(20_000, 40_000_000);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void RemainingCountsDownWithTheClockAndStopsAtZero()
    {
        // Given a budget of 2 s
        using var budget = NewBudget(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(2), budget.Remaining);

        // When 500 ms pass, then 2 s more
        _time.Advance(TimeSpan.FromMilliseconds(500));
        var afterHalfASecond = budget.Remaining;
        var elapsed = budget.Elapsed;
        _time.Advance(TimeSpan.FromSeconds(2));

        // Then 1.5 s were left, and then nothing (not less than nothing)
        Assert.Equal(TimeSpan.FromMilliseconds(1500), afterHalfASecond);
        Assert.Equal(TimeSpan.FromMilliseconds(500), elapsed);
        Assert.Equal(TimeSpan.Zero, budget.Remaining);
    }

    [Fact]
    public void DeadlineAndDrainEndFireAtTheTimeoutAndNotBefore()
    {
        // Given a budget of 2 s
        using var budget = NewBudget(TimeSpan.FromSeconds(2));

        // When the clock reaches one tick before the timeout
        _time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1));

        // Then neither has fired
        Assert.False(budget.Deadline.IsCancellationRequested);
        Assert.False(budget.DrainEnd.IsCancellationRequested);

        // When it reaches the timeout
        _time.Advance(TimeSpan.FromTicks(1));

        // Then both have
        Assert.True(budget.Deadline.IsCancellationRequested);
        Assert.True(budget.DrainEnd.IsCancellationRequested);
    }

    [Fact]
    public void TheSpillReserveIsTheGraceAndThePendingBytesAtFortyMegabytesASecond()
    {
        // 300 ms for the consumers to hand their batches back, and 40 MB of events' memory a second
        Assert.Equal(TimeSpan.FromMilliseconds(300), DrainBudget.SpillReserve(new PendingEvents(0, 0)));
        Assert.Equal(TimeSpan.FromMilliseconds(1300), DrainBudget.SpillReserve(new PendingEvents(20_000, 40_000_000)));
        Assert.Equal(TimeSpan.FromMilliseconds(2300), DrainBudget.SpillReserve(new PendingEvents(2_600, 80_000_000)));
    }

    [Fact]
    public void LargeEventsGetTheSpillTimeOfTheirBytesNotOfTheirNumber()
    {
        // Given 1,300 large events pending (about 30 KB each: 40 MB), the load
        var large = DrainBudget.SpillReserve(new PendingEvents(1_300, 40_000_000));

        // Then they get their bytes' time (1 s), not their number's (26 ms at 50,000 a second, which the count gave)
        Assert.Equal(TimeSpan.FromMilliseconds(1300), large);
    }

    [Fact]
    public void SmallEventsGetNoLessThanTheirNumbersTime()
    {
        // Given 50,000 small events pending (200 bytes each: 10 MB, a quarter of a second by bytes)
        var small = DrainBudget.SpillReserve(new PendingEvents(50_000, 10_000_000));

        // Then they get a second, at 50,000 a second: formatting each line costs CPU that the bytes don't show
        Assert.Equal(TimeSpan.FromMilliseconds(1300), small);
    }

    [Fact]
    public void EndsTheDrainOnceTheTimeLeftNoLongerCoversSpillingWhatIsPending()
    {
        // Given a 2 s budget reserving spill time for 40 MB of pending events: 1.3 s, so the drain may run 0.7 s
        using var budget = NewBudget(TimeSpan.FromSeconds(2));
        budget.ReserveSpillTimeFor(() => FortyMegabytes);

        // When the clock runs, check by check, to 0.65 s
        AdvanceInChecks(TimeSpan.FromMilliseconds(650));

        // Then the drain goes on
        Assert.False(budget.DrainEnd.IsCancellationRequested, $"the drain ended with {budget.Remaining} left");

        // When the next check comes, at 0.7 s
        _time.Advance(CheckInterval);

        // Then the drain has ended, and the deadline is still to come
        Assert.True(budget.DrainEnd.IsCancellationRequested, $"the drain goes on with {budget.Remaining} left");
        Assert.False(budget.Deadline.IsCancellationRequested);
        Assert.Equal(TimeSpan.FromMilliseconds(1300), budget.Remaining);
    }

    [Fact]
    public void EndsTheDrainTheGraceBeforeTheDeadlineWhenNothingIsPending()
    {
        // Given a 2 s budget reserving spill time for no pending event: 0.3 s, so the drain may run 1.7 s
        using var budget = NewBudget(TimeSpan.FromSeconds(2));
        budget.ReserveSpillTimeFor(() => new PendingEvents(0, 0));

        // When the clock runs to 1.65 s, then one check more
        AdvanceInChecks(TimeSpan.FromMilliseconds(1650));
        var endedBefore = budget.DrainEnd.IsCancellationRequested;
        _time.Advance(CheckInterval);

        // Then the drain ended at 1.7 s, not before, and the deadline is still to come
        Assert.False(endedBefore);
        Assert.True(budget.DrainEnd.IsCancellationRequested);
        Assert.False(budget.Deadline.IsCancellationRequested);
    }

    [Fact]
    public void EndsTheDrainAtOnceWhenTheBudgetCannotCoverSpillingWhatIsPending()
    {
        // Given a 2 s budget and 80 MB of pending events, whose spill is given 2.3 s
        using var budget = NewBudget(TimeSpan.FromSeconds(2));

        // When the reserve is asked for, before the clock moves
        budget.ReserveSpillTimeFor(() => new PendingEvents(2_600, 80_000_000));
        _time.Advance(TimeSpan.Zero);

        // Then the drain has ended at once
        Assert.True(budget.DrainEnd.IsCancellationRequested);
        Assert.False(budget.Deadline.IsCancellationRequested);
    }

    [Fact]
    public void ReadsThePendingEventsAtEveryCheck()
    {
        // Given a 2 s budget whose pending events drop from 40 MB to none at 0.5 s
        using var budget = NewBudget(TimeSpan.FromSeconds(2));
        var pending = FortyMegabytes;
        var gate = new Lock();
        budget.ReserveSpillTimeFor(() => { lock (gate) { return pending; } });
        AdvanceInChecks(TimeSpan.FromMilliseconds(500));
        lock (gate)
        {
            pending = new PendingEvents(0, 0);
        }

        // When the clock runs past 0.7 s, where 40 MB would have ended the drain, to 1.65 s
        AdvanceInChecks(TimeSpan.FromMilliseconds(1150));

        // Then the drain goes on, and ends at the next check, at 1.7 s
        Assert.False(budget.DrainEnd.IsCancellationRequested, $"the drain ended with {budget.Remaining} left");
        _time.Advance(CheckInterval);
        Assert.True(budget.DrainEnd.IsCancellationRequested);
    }

    [Fact]
    public void AnInfiniteBudgetEndsBothWhenItsOuterTokenFiresAndNotBefore()
    {
        // Given a budget with no timeout of its own, bounded by someone else's token, reserving spill time
        using var outer = new CancellationTokenSource();
        using var budget = new DrainBudget(Timeout.InfiniteTimeSpan, _time, NullLogger.Instance, outer.Token);
        budget.ReserveSpillTimeFor(() => new PendingEvents(1_000_000, 1_000_000_000));

        // When a day passes
        _time.Advance(TimeSpan.FromDays(1));

        // Then nothing has fired and the time left is infinite
        Assert.False(budget.Deadline.IsCancellationRequested);
        Assert.False(budget.DrainEnd.IsCancellationRequested);
        Assert.Equal(Timeout.InfiniteTimeSpan, budget.Remaining);

        // When the outer token fires
        outer.Cancel();

        // Then the deadline and the drain's end both have
        Assert.True(budget.Deadline.IsCancellationRequested);
        Assert.True(budget.DrainEnd.IsCancellationRequested);
    }

    [Fact]
    public void ABudgetWithATimeoutEndsBothWhenItsOuterTokenFiresFirst()
    {
        // Given a 10 s budget also bounded by an outer token
        using var outer = new CancellationTokenSource();
        using var budget = new DrainBudget(TimeSpan.FromSeconds(10), _time, NullLogger.Instance, outer.Token);

        // When the outer token fires at 1 s
        _time.Advance(TimeSpan.FromSeconds(1));
        outer.Cancel();

        // Then both have fired, 9 s early
        Assert.True(budget.Deadline.IsCancellationRequested);
        Assert.True(budget.DrainEnd.IsCancellationRequested);
        Assert.Equal(TimeSpan.FromSeconds(9), budget.Remaining);
    }

    private DrainBudget NewBudget(TimeSpan timeout) => new(timeout, _time, NullLogger.Instance);

    /// <summary>Moves the clock on by <paramref name="span"/>, one reserve check at a time, as the real clock would.</summary>
    private void AdvanceInChecks(TimeSpan span)
    {
        Assert.Equal(0, span.Ticks % CheckInterval.Ticks);
        for (var moved = TimeSpan.Zero; moved < span; moved += CheckInterval)
        {
            _time.Advance(CheckInterval);
        }
    }
}
