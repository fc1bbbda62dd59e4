using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.Registry;
using TrackerService.Events;
using TrackerService.Pipeline;
using TrackerService.Sinks;
using TrackerService.Spill;
using TrackerService.Telemetry;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Spill;

/// <summary>Replay at start, from a real spill folder into a sink behind the real resilience pipeline.</summary>
public sealed partial class SpillReplayServiceTests : IAsyncLifetime, IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("spill-replay-tests-");
    private readonly FakeTimeProvider _time = new(TrackedEvents.ReceivedAt);
    private readonly FakeLifetime _lifetime = new();
    private readonly List<SpillReplayService> _services = [];
    private readonly ServiceProvider _provider;
    private readonly TrackerTelemetry _telemetry;

    public SpillReplayServiceTests()
    {
        _provider = new ServiceCollection()
            .AddMetrics()
            .AddResiliencePipeline(SinkResilience.PipelineName, b => SinkResilience.Configure(b, new SinkOptions(), _ => false))
            .BuildServiceProvider();
        _telemetry = new TrackerTelemetry(_provider.GetRequiredService<IMeterFactory>());
        Store = new SpillStore(Microsoft.Extensions.Options.Options.Create(new SpillOptions { Directory = Path.Combine(_temp.FullName, "spill") }), _time, NullLogger<SpillStore>.Instance);
    }

    private SpillStore Store { get; }

    private string CorruptFolder => Path.Combine(Store.Folder, "corrupt");

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Stops every service a test started (xunit calls this before <see cref="Dispose"/>).</summary>
    public async Task DisposeAsync()
    {
        foreach (var service in _services)
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    public void Dispose()
    {
        foreach (var service in _services)
        {
            service.Dispose();
        }

        _telemetry.Dispose();
        _provider.Dispose();
        _lifetime.Dispose();
        _temp.Delete(recursive: true);
    }

    [Fact]
    public async Task ReplaysTheSegmentsPresentAtStartInOrderAndDeletesThem()
    {
        // Given two segments spilled one after the other, each more than one batch long
        await SpillAsync(TrackedEvents.Many(5, "first"));
        await SpillAsync(TrackedEvents.Many(3, "second"));
        var sink = new FakeSink();
        var service = CreateService(sink, batchSize: 2);

        // When the service starts and its replay completes
        await service.StartAsync(CancellationToken.None);
        await service.Completion.WaitAsync(Patience.Default);

        // Then every event reached the sink in spill order, and both segments are gone, none moved aside
        Assert.Equal(["first-0", "first-1", "first-2", "first-3", "first-4", "second-0", "second-1", "second-2"], sink.Received);
        Assert.Equal(8, sink.Stored.Count);
        Assert.Empty(Store.ListSegments());
        Assert.False(Directory.Exists(CorruptFolder));
    }

    [Fact]
    public async Task StoresAnEventOnceWhenItIsAlreadyInTheSinkAndDeletesTheSegment()
    {
        // Given an event the sink already stored that was also spilled (a replay cut short and done again)
        var already = TrackedEvents.Track("already");
        var sink = new FakeSink().Seed(already);
        await SpillAsync([already, TrackedEvents.Track("new")]);
        var service = CreateService(sink, batchSize: 10);

        // When the spill is replayed
        await service.StartAsync(CancellationToken.None);
        await service.Completion.WaitAsync(Patience.Default);

        // Then both were sent, the sink holds each once (one newly stored), and the segment is still deleted
        Assert.Equal(["already", "new"], sink.Received);
        Assert.Equal(["already", "new"], sink.Stored.Keys.Order());
        Assert.Equal(1, sink.NewlyStored);
        Assert.Empty(Store.ListSegments());
        Assert.False(Directory.Exists(CorruptFolder));
    }

    [Fact]
    public async Task ReplaysTheCompleteEventsOfASegmentWithATornTailAndKeepsItAside()
    {
        // Given a segment whose last line was cut short
        await SpillAsync(TrackedEvents.Many(3, "t"));
        var path = Assert.Single(Store.ListSegments());
        var torn = TrackedEvents.Lines(TrackedEvents.Track("torn"));
        await File.AppendAllTextAsync(path, System.Text.Encoding.UTF8.GetString(torn[..(torn.Length / 2)]));
        var sink = new FakeSink();
        var service = CreateService(sink);

        // When the spill is replayed
        await service.StartAsync(CancellationToken.None);
        await service.Completion.WaitAsync(Patience.Default);

        // Then its complete events are stored, and the segment, not every byte of which was an event, is kept aside
        Assert.Equal(["t-0", "t-1", "t-2"], sink.Received);
        Assert.False(File.Exists(path));
        Assert.True(File.Exists(Path.Combine(CorruptFolder, Path.GetFileName(path))));
    }

    [Fact]
    public async Task ReplaysTheReadableEventsOfACorruptSegmentAndMovesItAside()
    {
        // Given a segment with a damaged line between good ones
        await SpillAsync(TrackedEvents.Many(2, "good"));
        var path = Assert.Single(Store.ListSegments());
        await File.AppendAllTextAsync(path, "#garbage#\n");
        await File.AppendAllBytesAsync(path, TrackedEvents.Lines(TrackedEvents.Track("after")));
        var content = await File.ReadAllBytesAsync(path);
        var sink = new FakeSink();
        var service = CreateService(sink);

        // When the spill is replayed
        await service.StartAsync(CancellationToken.None);
        await service.Completion.WaitAsync(Patience.Default);

        // Then the readable events are stored and the file is kept, whole, in corrupt/ rather than deleted
        Assert.Equal(["good-0", "good-1", "after"], sink.Received);
        Assert.Empty(Store.ListSegments());
        var movedTo = Path.Combine(CorruptFolder, Path.GetFileName(path));
        Assert.True(File.Exists(movedTo), $"{movedTo} is missing.");
        Assert.Equal(content, await File.ReadAllBytesAsync(movedTo));
    }

    [Fact]
    public async Task KeepsTheSegmentsForTheNextStartWhenTheSinkFails()
    {
        // Given two segments and a sink that fails for good (not a transient error)
        await SpillAsync(TrackedEvents.Many(2, "kept1"));
        await SpillAsync(TrackedEvents.Many(2, "kept2"));
        var segments = Store.ListSegments();
        var contents = await Task.WhenAll(segments.Select(s => File.ReadAllBytesAsync(s)));
        var broken = new FakeSink().Failing(() => new InvalidOperationException("The store is broken."));
        var service = CreateService(broken);

        // When the spill is replayed
        await service.StartAsync(CancellationToken.None);
        await service.Completion.WaitAsync(Patience.Default);

        // Then the replay ends without faulting, the write was tried once, and both segments are kept as they were
        Assert.True(service.Completion.IsCompletedSuccessfully);
        Assert.Equal(1, broken.Writes);
        Assert.Equal(segments, Store.ListSegments());
        Assert.Equal(contents, await Task.WhenAll(segments.Select(s => File.ReadAllBytesAsync(s))));
        Assert.False(Directory.Exists(CorruptFolder));

        // And the next start replays them
        var healthy = new FakeSink();
        var next = CreateService(healthy);
        await next.StartAsync(CancellationToken.None);
        await next.Completion.WaitAsync(Patience.Default);
        Assert.Equal(["kept1-0", "kept1-1", "kept2-0", "kept2-1"], healthy.Received);
        Assert.Empty(Store.ListSegments());
    }

    [Fact]
    public async Task StopsReplayingAndKeepsTheSegmentWhenTheApplicationStops()
    {
        // Given a replay whose first write the sink holds
        await SpillAsync(TrackedEvents.Many(3, "s"));
        var path = Assert.Single(Store.ListSegments());
        var sink = new FakeSink().HoldingWrites();
        var service = CreateService(sink);
        await service.StartAsync(CancellationToken.None);
        await sink.FirstWrite.WaitAsync(Patience.Default);

        // When the application begins to stop
        _lifetime.StopApplication();

        // Then the replay ends, nothing is stored, and the segment stays for the next start
        await service.Completion.WaitAsync(Patience.Default);
        Assert.Empty(sink.Stored);
        Assert.Equal([path], Store.ListSegments());
    }

    [Fact]
    public async Task CompletesAtOnceWhenThereIsNoSpill()
    {
        // Given no spill folder at all
        var sink = new FakeSink();
        var service = CreateService(sink);

        // When the service starts
        await service.StartAsync(CancellationToken.None);

        // Then its replay is already complete, nothing was written, and no folder was created
        Assert.True(service.Completion.IsCompletedSuccessfully);
        Assert.Equal(0, sink.Writes);
        Assert.False(Directory.Exists(Store.Folder));
    }

    private async Task SpillAsync(TrackedEvent[] events)
    {
        await Store.WriteAsync(events);
        _time.Advance(TimeSpan.FromSeconds(1)); // segment names sort by the time they were written
    }

    private SpillReplayService CreateService(IEventSink sink, int batchSize = 2, IEventContract? contract = null)
    {
        var pipelines = _provider.GetRequiredService<ResiliencePipelineProvider<string>>();
        var service = new SpillReplayService(
            Store,
            new SinkWriter(sink, pipelines, TimeProvider.System, _telemetry),
            Microsoft.Extensions.Options.Options.Create(new SpillOptions { Directory = Store.Folder, ReplayBatchSize = batchSize }),
            new ReplaySignal(),
            _time,
            _lifetime,
            _telemetry,
            NullLogger<SpillReplayService>.Instance,
            contract);
        _services.Add(service);
        return service;
    }

    private sealed class FakeLifetime : IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource _started = new();
        private readonly CancellationTokenSource _stopping = new();
        private readonly CancellationTokenSource _stopped = new();

        public CancellationToken ApplicationStarted => _started.Token;

        public CancellationToken ApplicationStopping => _stopping.Token;

        public CancellationToken ApplicationStopped => _stopped.Token;

        public void StopApplication() => _stopping.Cancel();

        public void Dispose()
        {
            _started.Dispose();
            _stopping.Dispose();
            _stopped.Dispose();
        }
    }
}
