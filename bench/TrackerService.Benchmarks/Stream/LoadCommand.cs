using System.Diagnostics;
using Npgsql;
using TrackerService.Benchmarks.Load;
using TrackerService.Benchmarks.Store;

namespace TrackerService.Benchmarks.Stream;

/// <summary>
/// The loader's figure: a running (warm) loader given a backlog of <c>events</c> messages at once, timed until
/// PostgreSQL holds all of them. The backlog is made behind a held lock: this opens a transaction that empties the
/// loader's <c>events</c> table (<c>TRUNCATE</c>, which holds the table until the commit), purges the stream and
/// publishes the events (<see cref="PublishCommand.PublishAsync"/>); meanwhile each of the loader's loops fetches a
/// batch and waits on the lock to write it. The clock starts at the commit, and stops at the first poll that sees every
/// event stored (the probe and the count are the e2e command's, <see cref="StoreProbe"/>), so the rate is the loader's
/// own: not bounded by a publisher running beside it on the same cores, and with no start-up in it.
/// </summary>
/// <remarks>
/// The CPU time of the loader and of the NATS server (<c>/proc</c>, by their pids) is taken over the load (commit to
/// stored) and, separately, over the publish; the batches the loops took before the commit are part of the load, since
/// they are stored after it: nothing is subtracted.
/// </remarks>
internal static class LoadCommand
{
    public static async Task<int> RunAsync(string url, string stream, string connectionString, int events, int loaderPid, int natsPid, int inFlight)
    {
        var receivedAt = DateTimeOffset.UtcNow;
        var rows = BenchStream.Events(events, receivedAt);
        await using var probe = StoreProbe.Open("postgres:" + connectionString)!;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var hold = await connection.BeginTransactionAsync();
        await using (var truncate = new NpgsqlCommand("TRUNCATE events", connection, hold))
        {
            await truncate.ExecuteNonQueryAsync(); // waits for a write in progress; the loader's next one waits for the commit
        }

        await using var nats = BenchStream.Connect(url, stream);
        await PublishCommand.PrepareAsync(nats);
        var natsAtPublish = BenchStream.CpuSeconds(natsPid);
        var (publishElapsed, publishCpu) = await PublishCommand.PublishAsync(nats, rows, inFlight);
        var natsPublish = BenchStream.CpuSeconds(natsPid) - natsAtPublish;
        if (await PublishCommand.CountAsync(nats) is var held && held != events)
        {
            Console.Error.WriteLine($"load: FAILED: {events} publishes acked but the stream holds {held} messages");
            return 1;
        }

        // The table was emptied in this transaction, so every row is this run's: counted from a second before their
        // receivedAt, whatever precision the spill line and the column keep of it.
        await probe.StartAsync(receivedAt.AddSeconds(-1));
        var tail = new[] { rows[^1].MessageId };
        var loaderAtStart = BenchStream.CpuSeconds(loaderPid);
        var natsAtStart = BenchStream.CpuSeconds(natsPid);
        var released = Stopwatch.GetTimestamp();
        await hold.CommitAsync();
        if (await EndToEndCommand.WaitAsync(() => probe.PresentAsync(tail), tail.Length) is null
            || await EndToEndCommand.WaitAsync(probe.StoredSinceStartAsync, events) is not { } storedAt)
        {
            Console.Error.WriteLine($"load: FAILED: PostgreSQL holds {await probe.TotalAsync()} of {events} events and has stopped growing");
            return 1;
        }

        var loaderCpu = BenchStream.CpuSeconds(loaderPid) - loaderAtStart;
        var natsCpu = BenchStream.CpuSeconds(natsPid) - natsAtStart;
        var stored = await probe.TotalAsync();
        if (stored != events)
        {
            Console.Error.WriteLine($"load: FAILED: {events} events published but PostgreSQL's events table has {stored} rows");
            return 1;
        }

        var seconds = Stopwatch.GetElapsedTime(released, storedAt).TotalSeconds;
        Output.Result(new
        {
            Kind = "load",
            Events = events,
            Stored = stored,
            Seconds = Math.Round(seconds, 3),
            EventsPerS = Math.Round(events / seconds),
            ServerCpuS = Math.Round(loaderCpu, 3),
            NatsCpuS = Math.Round(natsCpu, 3),
            PublishSeconds = Math.Round(publishElapsed.TotalSeconds, 3),
            PublishEventsPerS = Math.Round(events / publishElapsed.TotalSeconds),
            PublishCpuS = Math.Round(publishCpu.TotalSeconds, 3),
            PublishNatsCpuS = Math.Round(natsPublish, 3),
        });
        return 0;
    }
}
