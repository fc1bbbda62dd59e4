using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using TrackerService.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TrackerService.Tests.Durability;

/// <summary>
/// Rounds of load and SIGKILL on the real service, all in one folder, so that the store, the write-ahead log and any
/// spill carry over from one round to the next. Each round starts the service, runs <see cref="ClientCount"/>
/// concurrent clients posting batches of 1 to 20 events with unique messageIds, and kills the process (SIGKILL, not
/// SIGTERM) at a random moment while they post. Only a 202 the client read counts as accepted; every messageId ever
/// posted counts as sent (a request cut by the kill may or may not have been stored).
/// </summary>
internal sealed class CrashRounds(string folder, IReadOnlyDictionary<string, string> settings, ITestOutputHelper output)
{
    private const int ClientCount = 8;

    private readonly int _seed = Environment.TickCount;
    private readonly ConcurrentDictionary<string, byte> _sent = new();
    private readonly ConcurrentDictionary<string, byte> _accepted = new();
    private readonly ConcurrentDictionary<string, int> _answers = new();
    private readonly Stopwatch _clock = new();

    public IReadOnlyCollection<string> Accepted => (IReadOnlyCollection<string>)_accepted.Keys;

    public int Rounds { get; private set; }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Runs <paramref name="rounds"/> rounds; fails if they take longer than <paramref name="budget"/> together.</summary>
    public async Task RunAsync(int rounds, TimeSpan budget)
    {
        var random = new Random(_seed);
        output.WriteLine($"seed {_seed}, settings: {string.Join(", ", settings.Select(s => $"{s.Key}={s.Value}"))}");
        _clock.Start();
        for (var round = 0; round < rounds; round++)
        {
            if (_clock.Elapsed > budget)
            {
                throw new TimeoutException($"{round} of {rounds} rounds took {_clock.Elapsed.TotalSeconds:F1} s, over the budget of {budget.TotalSeconds} s");
            }

            await RunRoundAsync(round, TimeSpan.FromMilliseconds(random.Next(150, 601)), random.Next());
            Rounds++;
        }
    }

    /// <summary>
    /// Starts the service once more, waits up to <paramref name="patience"/> for the store to hold every accepted
    /// messageId, stops it with SIGTERM and reads the store.
    /// </summary>
    public async Task<CrashOutcome> RecoverAsync(TimeSpan patience)
    {
        var service = await ServiceProcess.StartAsync(folder, settings);
        await using (service)
        {
            var recovered = await Eventually.TrueAsync(
                async () => await StoreReader.CountAsync(service.DatabasePath) >= _accepted.Count && (await LostAsync(service.DatabasePath)).Count == 0,
                patience);
            output.WriteLine($"after the restart: every accepted event stored: {recovered}, {_clock.Elapsed.TotalSeconds:F1} s in");
            var (exitCode, _) = await service.TerminateAsync(TimeSpan.FromSeconds(30));
            Assert.True(exitCode == 0, $"the last run exited {exitCode}. Output:\n{service.Output}");

            var stored = await StoredAsync(service.DatabasePath);
            var duplicates = await StoreReader.QueryAsync(
                service.DatabasePath, "SELECT message_id, COUNT(*) FROM events GROUP BY message_id HAVING COUNT(*) > 1");
            output.WriteLine($"answers: {string.Join(", ", _answers.OrderBy(a => a.Key).Select(a => $"{a.Key} {a.Value}"))}");
            return new CrashOutcome(
                Rounds,
                _accepted.Count,
                [.. _accepted.Keys.Where(id => !stored.Contains(id)).Order()],
                [.. stored.Where(id => !_sent.ContainsKey(id)).Order()],
                [.. duplicates.Select(row => $"{row[0]} x{row[1]}")],
                _clock.Elapsed);
        }
    }

    private async Task RunRoundAsync(int round, TimeSpan load, int seed)
    {
        var before = _accepted.Count;
        var service = await ServiceProcess.StartAsync(folder, settings);
        using var stop = new CancellationTokenSource();
        var clients = new List<Task>();
        try
        {
            var random = new Random(seed);
            for (var c = 0; c < ClientCount; c++)
            {
                var (client, prefix, clientRandom) = (service.Client, $"r{round}-c{c}", new Random(random.Next()));
                clients.Add(Task.Run(() => PostAsync(client, prefix, clientRandom, stop.Token)));
            }

            await Task.Delay(load); // how long the load runs, i.e. the kill's random moment: not a wait for a condition
            service.Kill();
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await Task.WhenAll(clients).WaitAsync(Patience.Default); // before the service's HttpClient goes
            }
            finally
            {
                await service.DisposeAsync(); // kills the process if anything above threw before the kill
            }
        }

        output.WriteLine($"round {round}: killed after {load.TotalMilliseconds:F0} ms, {_accepted.Count - before} events accepted, {_clock.Elapsed.TotalSeconds:F1} s in");
    }

    /// <summary>Posts batches until <paramref name="stop"/>; a refusal or a connection error drops the batch and goes on.</summary>
    private async Task PostAsync(HttpClient client, string prefix, Random random, CancellationToken stop)
    {
        for (var r = 0; !stop.IsCancellationRequested; r++)
        {
            var ids = Enumerable.Range(0, random.Next(1, 21)).Select(i => $"{prefix}-{r}-{i}").ToArray();
            foreach (var id in ids)
            {
                _sent[id] = 0;
            }

            try
            {
                using var response = await client.PostAsync("/events", Bodies.Json(ids.Select(id => Bodies.Track(id)).ToArray()), stop);
                Count(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    foreach (var id in ids)
                    {
                        _accepted[id] = 0;
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or System.Net.Sockets.SocketException or IOException)
            {
                // The kill, or the moments after it. A connection the dying server half opened can fail with a bare
                // SocketException ("Transport endpoint is not connected") that HttpClient does not wrap.
                Count("connection error");
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                Count("cut at the end of the round");
            }
        }
    }

    private void Count(string answer) => _answers.AddOrUpdate(answer, 1, (_, n) => n + 1);

    private static async Task<HashSet<string>> StoredAsync(string databasePath) =>
        [.. (await StoreReader.QueryAsync(databasePath, "SELECT message_id FROM events")).Select(row => (string)row[0]!)];

    private async Task<List<string>> LostAsync(string databasePath)
    {
        var stored = await StoredAsync(databasePath);
        return [.. _accepted.Keys.Where(id => !stored.Contains(id))];
    }
}

/// <summary>What the store held after the rounds: accepted events it lacks, events nobody sent, duplicates.</summary>
internal sealed record CrashOutcome(int Rounds, int Accepted, IReadOnlyList<string> Lost, IReadOnlyList<string> Unsent, IReadOnlyList<string> Duplicates, TimeSpan Elapsed)
{
    public string Summary(string mode) =>
        $"{mode} mode: lost {Lost.Count} of {Accepted} accepted over {Rounds} rounds ({Elapsed.TotalSeconds:F0} s)";

    /// <summary>The lost events per round (messageIds start with <c>r{round}-</c>), rounds that lost none left out.</summary>
    public string LostPerRound() => string.Join(", ", Lost.GroupBy(id => id[..id.IndexOf('-', StringComparison.Ordinal)])
        .OrderBy(g => int.Parse(g.Key[1..], System.Globalization.CultureInfo.InvariantCulture)).Select(g => $"{g.Key} {g.Count()}"));
}
