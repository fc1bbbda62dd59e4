using System.Diagnostics.Metrics;
using CsCheck;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TrackerService.Events;
using TrackerService.Sinks;
using TrackerService.Telemetry;
using TrackerService.Tests.Infrastructure;
using TrackerService.Tests.Streaming;

namespace TrackerService.Tests.Loading;

/// <summary>Real loader processes (<c>Tracker__Role=Loader</c>) on one real nats-server, each into a SQLite file.</summary>
public sealed class LoaderProcessTests : IAsyncLifetime
{
    private readonly List<string> _folders = [];
    private NatsServer _server = null!;

    public async Task InitializeAsync() => _server = await NatsServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        foreach (var folder in _folders)
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task StoresEveryFieldOnceExactlyAsADirectSinkStoresIt()
    {
        // Given 300 events with any mix of fields, a quarter of them rejected stand-ins, published as the intake does
        var events = StreamMessageGen.Event.Array[300].Single().Select((e, i) => e with { MessageId = $"m-{i}" }).ToArray();
        await StreamWriting.PublishAsync(_server.Url, events);

        // And the same events written by the store's writer straight into another SQLite file (what a direct sink stores)
        var direct = Path.Combine(Folder(), "direct.db");
        await WriteDirectAsync(direct, events);

        // When a loader process loads the stream
        await using var loader = await LoaderAsync(Folder());

        // Then its store holds every event and every dead-letter row once, field for field as the direct one
        var valid = events.Count(e => e.Rejection is null);
        await StoreReader.WaitForCountAsync(loader.DatabasePath, valid);
        await StoreReader.WaitForRejectedAsync(loader.DatabasePath, events.Length - valid);
        await StreamWriting.WaitForAllAckedAsync(_server.Url);
        const string Events = "SELECT * FROM events ORDER BY message_id";
        const string Rejected = "SELECT message_id, reason, field, source, raw, received_at FROM rejected_events ORDER BY message_id";
        Assert.Equal(await StoreReader.QueryAsync(direct, Events), await StoreReader.QueryAsync(loader.DatabasePath, Events));
        Assert.Equal(await StoreReader.QueryAsync(direct, Rejected), await StoreReader.QueryAsync(loader.DatabasePath, Rejected));
    }

    [Fact]
    public async Task TwoLoadersShareTheConsumerSplitTheWorkAndStoreEachEventOnce()
    {
        // Given two loaders, each with its own store, fetching small batches from the one consumer
        var small = new Dictionary<string, string> { ["Tracker__JetStream__FetchBatch"] = "50" };
        await using var first = await LoaderAsync(Folder(), small);
        await using var second = await LoaderAsync(Folder(), small);

        // When 2000 events are published
        var events = TrackedEvents.Many(2000, "m");
        await StreamWriting.PublishAsync(_server.Url, events);

        // Then the two stores hold them all between them, each event in one of them only, and both took a share
        Assert.True(await Eventually.TrueAsync(async () =>
            await StoreReader.CountAsync(first.DatabasePath) + await StoreReader.CountAsync(second.DatabasePath) >= 2000, Patience.Default), "not all were loaded");
        await StreamWriting.WaitForAllAckedAsync(_server.Url);
        var a = await IdsAsync(first.DatabasePath);
        var b = await IdsAsync(second.DatabasePath);
        Assert.Empty(a.Intersect(b));
        Assert.Equal(TrackedEvents.Ids(events).Order(StringComparer.Ordinal), a.Union(b).Order(StringComparer.Ordinal));
        Assert.True(a.Count > 0 && b.Count > 0, $"one loader took everything: {a.Count} and {b.Count}");
    }

    [Fact]
    public async Task ABatchHeldByALoaderThatIsKilledIsDeliveredAgainAfterAckWaitAndStoredOnce()
    {
        // Given a loader (AckWait 2 s) holding a batch it can't commit: another connection locks its store
        var folder = Folder();
        var settings = new Dictionary<string, string> { ["Tracker__JetStream__AckWait"] = "00:00:02", ["Tracker__JetStream__FetchBatch"] = "100" };
        var first = await LoaderAsync(folder, settings);
        await using (first)
        {
            await using var store = await StoreReader.LockAsync(first.DatabasePath);
            await StreamWriting.PublishAsync(_server.Url, TrackedEvents.Many(300, "m"));
            Assert.True(await Eventually.TrueAsync(async () => (await StreamWriting.ConsumerAsync(_server.Url)).NumAckPending > 0, Patience.Default), "no batch was delivered");

            // When it is killed (SIGKILL) mid-batch
            first.Kill();
        }

        // Then a loader started again on the same store gets the killed one's batches once AckWait has passed, and the
        // store holds each event exactly once
        await using var second = await LoaderAsync(folder, settings);
        await StoreReader.WaitForCountAsync(second.DatabasePath, 300);
        await StreamWriting.WaitForAllAckedAsync(_server.Url);
        Assert.Equal(300L, (await StoreReader.QueryAsync(second.DatabasePath, "SELECT count(DISTINCT message_id) FROM events"))[0][0]);
        var metrics = await second.Admin.GetStringAsync("/metrics");
        Assert.True(Prometheus.Sample(metrics, "tracker_loader_redelivered_total") > 0, $"nothing was delivered again:\n{metrics}");
    }

    private async Task<ServiceProcess> LoaderAsync(string folder, Dictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string> { ["Tracker__Role"] = "Loader", ["Tracker__JetStream__Url"] = _server.Url };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return await ServiceProcess.StartAsync(folder, settings);
    }

    private string Folder()
    {
        var folder = Directory.CreateTempSubdirectory("tracker-loader-").FullName;
        _folders.Add(folder);
        return folder;
    }

    private static async Task<HashSet<string>> IdsAsync(string database) =>
        [.. (await StoreReader.QueryAsync(database, "SELECT message_id FROM events")).Select(r => (string)r[0]!)];

    /// <summary>The events through the store's own writer (stand-ins to rejected_events), as a consumer of a direct sink writes them.</summary>
    private static async Task WriteDirectAsync(string database, TrackedEvent[] events)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Sqlite"] = $"Data Source={database}" }).Build();
        await using var sink = new SqliteEventSink(configuration, Microsoft.Extensions.Options.Options.Create(new SinkOptions()), NullLogger<SqliteEventSink>.Instance);
        await sink.InitializeAsync(default);
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var writer = new SinkWriter(sink, new SinkPipeline(new SinkOptions(), sink.IsTransient, TimeProvider.System), TimeProvider.System,
            new TrackerTelemetry(services.GetRequiredService<IMeterFactory>()));
        await writer.WriteAsync(events, span: null, default);
    }
}
