using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TrackerService.Events;
using TrackerService.Sinks;

namespace TrackerService.Benchmarks.Micro;

/// <summary>
/// One 1000-event batch written by <see cref="SqliteEventSink"/> to a file in a temporary folder (its own pragmas,
/// WAL, one transaction). Each write needs events the store has not seen, or ON CONFLICT DO NOTHING would make it
/// a no-op: the batches of an iteration are made before it, so the invocation count is fixed.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(BatchesPerIteration)]
public class SqliteSinkBenchmarks : IDisposable
{
    private const int BatchSize = 1000;
    private const int BatchesPerIteration = 16;
    private readonly List<TrackedEvent[]> _batches = [];
    private string _folder = "";
    private SqliteEventSink? _sink;
    private int _next;
    private long _made;

    [GlobalSetup]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("tracker-micro-").FullName;
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("ConnectionStrings:Sqlite", $"Data Source={Path.Combine(_folder, "events.db")}")])
            .Build();
        _sink = new SqliteEventSink(configuration, Microsoft.Extensions.Options.Options.Create(new SinkOptions()), NullLogger<SqliteEventSink>.Instance);
        _sink.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    [IterationSetup]
    public void MakeBatches()
    {
        _batches.Clear();
        _next = 0;
        var receivedAt = DateTimeOffset.UtcNow;
        for (var b = 0; b < BatchesPerIteration; b++)
        {
            _batches.Add([.. Enumerable.Range(0, BatchSize).Select(_ => SampleEvents.Tracked(SampleEvents.Id("m-sink", _made), _made++, receivedAt))]);
        }
    }

    [Benchmark]
    public async Task<int> WriteBatch1000()
    {
        var stored = await _sink!.WriteAsync(_batches[_next++], CancellationToken.None);
        return stored == BatchSize ? stored : throw new InvalidOperationException($"stored {stored} of {BatchSize}");
    }

    [GlobalCleanup]
    public void Dispose()
    {
        if (_sink is not null)
        {
            _sink.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _sink = null;
            Directory.Delete(_folder, recursive: true);
        }

        GC.SuppressFinalize(this);
    }
}
