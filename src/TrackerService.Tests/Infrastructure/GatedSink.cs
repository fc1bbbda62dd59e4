using System.Collections.Concurrent;
using TrackerService.Events;
using TrackerService.Sinks;

namespace TrackerService.Tests.Infrastructure;

/// <summary>A sink that holds every write until the test opens its gate, and remembers what it stored.</summary>
internal sealed class GatedSink : IEventSink
{
    public string Name => "test";

    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstWrite = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentDictionary<string, TrackedEvent> Stored { get; } = new();

    /// <summary>Completes when a consumer has called <see cref="WriteAsync"/> for the first time.</summary>
    public Task FirstWrite => _firstWrite.Task;

    public void Open() => _gate.TrySetResult();

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public bool IsTransient(Exception exception) => false;

    public async Task<int> WriteAsync(IReadOnlyList<TrackedEvent> batch, CancellationToken cancellationToken)
    {
        _firstWrite.TrySetResult();
        await _gate.Task.WaitAsync(cancellationToken);
        return batch.Count(e => Stored.TryAdd(e.MessageId, e));
    }
}
