using System.Globalization;
using TrackerService.Benchmarks;
using TrackerService.Benchmarks.Load;
using TrackerService.Benchmarks.Micro;
using TrackerService.Benchmarks.Store;
using TrackerService.Benchmarks.Stream;

// The commands bench/run drives (issue 6). Each prints its result as one JSON line on stdout; progress goes to stderr.
return args switch
{
    ["rate", var url, var rps, var seconds, var connections, .. var rest] =>
        RateCommand.Run(new Uri(url), Number(rps), Number(seconds), Int(connections),
            Option(rest, "--body") is { } file ? File.ReadAllBytes(file) : SampleEvents.Body(null, 0, 1),
            Option(rest, "--warmup") is { } warmup ? Number(warmup) : 1),
    ["e2e", var url, var sink, var events, var perRequest, var senders, .. var rest] =>
        await EndToEndCommand.RunAsync(new Uri(url), sink, Int(events), Int(perRequest), Int(senders), Option(rest, "--body") ?? "events"),
    ["raw-sqlite", var file, var events] => await RawWriteCommands.SqliteAsync(file, Int(events)),
    ["raw-postgres", var connectionString, var events] => await RawWriteCommands.PostgresAsync(connectionString, Int(events)),
    ["publish", var natsUrl, var stream, var events, .. var rest] =>
        await PublishCommand.RunAsync(natsUrl, stream, Int(events), Positional(rest, 0, 1000), Positional(rest, 1, 0), NatsPid(rest), rest.Contains("--via-sink")),
    ["load", var natsUrl, var stream, var connectionString, var events, var loaderPid, var natsPid, .. var rest] =>
        await LoadCommand.RunAsync(natsUrl, stream, connectionString, Int(events), Int(loaderPid), Int(natsPid), rest.Length > 0 ? Int(rest[0]) : 1000),
    ["drain", var natsUrl, var stream, var consumer, .. var rest] =>
        await DrainCommand.RunAsync(natsUrl, stream, consumer, Positional(rest, 0, 2), NatsPid(rest)),
    ["spill-rate", var folder, var small, var large, var rounds] => await SpillRateCommand.RunAsync(folder, Int(small), Int(large), Int(rounds)),
    ["fsync-rate", var folder, .. var rest] => FsyncRateCommand.Run(
        folder, rest.Length > 0 ? Number(rest[0]) : 3, rest.Length > 1 ? Int(rest[1]) : 4096, rest.Length > 2 ? rest[2] : "append"),
    ["body", var file, var events] => WriteBody(file, Int(events)),
    ["spill", var folder, var events] => await SpillWriteCommand.RunAsync(folder, Int(events)),
    ["micro", .. var rest] => MicroCommand.Run(rest.Contains("--quick"), Option(rest, "--artifacts") ?? "BenchmarkDotNet.Artifacts", Option(rest, "--filter")),
    ["postgres", var connectionString, .. var rest] => await RunPostgresAsync(connectionString, rest),
    _ => Usage(),
};

static async Task<int> RunPostgresAsync(string connectionString, string[] rest)
{
    await PostgresWriteBenchmark.RunAsync(connectionString,
        rest.Length > 0 ? Int(rest[0]) : 50, rest.Length > 1 ? Int(rest[1]) : 1000, rest.Length > 2 ? Int(rest[2]) : 3);
    return 0;
}

// A request body of N sample events without message ids (the service assigns them), for wrk and the rate command.
static int WriteBody(string file, int events)
{
    File.WriteAllBytes(file, SampleEvents.Body(null, 0, events));
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: TrackerService.Benchmarks <command>
          rate <url> <rps> <seconds> <connections> [--body file] [--warmup seconds=1]
                                      open-loop constant-rate POSTs; latency from each request's due time
          e2e <url> <sqlite:file|postgres:cs|jetstream:natsurl|none> <events> <perRequest> <senders> [--body events|node|segment]
                                      batched end to end: send, then wait until the store holds every event;
                                      node: analytics-node's events as arrays (/events), segment: in /v1/batch envelopes
          raw-sqlite <file> <events>  bare prepared INSERT loop, one transaction, the sink's schema and pragmas
          raw-postgres <cs> <events>  bare binary COPY into a table of the sink's schema (bench_raw_events)
          publish <natsurl> <stream> <events> [inflight=1000] [warmup=0] [--nats-pid pid] [--via-sink]
                                      raw JetStream publisher: the sink's messages (subject per type, spill line, Nats-Msg-Id),
                                      up to inflight acks outstanding, into the stream (created as the service does, purged first);
                                      warmup: as many events published and purged first, untimed; --nats-pid: that
                                      process's CPU over the timed publish (nats_cpu_s); --via-sink: through the service's
                                      JetStreamSink, 1000-event batches from 2 loops (the sink without HTTP, parsing or queue)
          load <natsurl> <stream> <cs> <events> <loaderPid> <natsPid> [inflight=1000]
                                      a running loader's rate: publish a backlog while its events table is held (TRUNCATE in an
                                      open transaction), commit, time until PostgreSQL holds all; CPU of both pids over the load
          drain <natsurl> <stream> <consumer> [passes=2] [--nats-pid pid]
                                      fetch + ack only: a fresh consumer of the loader's configuration read to the end, nothing
                                      stored; the last of the passes reported (the first ones warm up)
          spill-rate <folder> <small> <large> <rounds>
                                      the spill's write rate (one segment, fsync), events/s and memory bytes/s, small and large events
          fsync-rate <folder> [seconds=3] [block=4096] [append|zeroed]
                                      this disk's raw sync rate: a loop of one write (appended, or over zeros) + fsync
          body <file> <events>        write a request body of N sample events (no message ids)
          spill <folder> <events>     the spill's write path with large events (~25 KB each): line size, MB/s
          micro [--quick] [--artifacts dir] [--filter name]
                                      BenchmarkDotNet: parse+validate, queue, SQLite sink batch write
          postgres <cs> [batches=50] [batchSize=1000] [rounds=3]
                                      the PostgreSQL sink's write path against batched INSERTs
        """);
    return 2;
}

static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

static double Number(string s) => double.Parse(s, CultureInfo.InvariantCulture);

// The argument at index k of those before the first --option, or the default when there are fewer.
static int Positional(string[] rest, int k, int fallback) =>
    rest.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ElementAtOrDefault(k) is { } s ? Int(s) : fallback;

static int? NatsPid(string[] rest) => Option(rest, "--nats-pid") is { } pid ? Int(pid) : null;

static string? Option(string[] args, string name) =>
    Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
