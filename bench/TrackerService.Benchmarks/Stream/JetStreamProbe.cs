using NATS.Client.Core;
using NATS.Client.JetStream;
using TrackerService.Benchmarks.Store;
using TrackerService.Streaming;

namespace TrackerService.Benchmarks.Stream;

/// <summary>
/// The e2e command's probe for <c>jetstream:&lt;nats url&gt;</c>: the service's stream (<see cref="JetStreamOptions.Stream"/>,
/// by default) counted by its state, one JetStream API call (<c>STREAM.INFO</c>) that costs the same however many
/// messages it holds. The stream only grows by one message per publish it acks (a duplicate is dropped), so the
/// messages added since the start of a run are the run's events stored.
/// </summary>
internal sealed class JetStreamProbe(string url) : StoreProbe
{
    private readonly NatsConnection _nats = new(new NatsOpts { Url = url, Name = "bench-probe" });
    private readonly string _stream = new JetStreamOptions().Stream;
    private long _base;

    private NatsJSContext JetStream => new(_nats);

    public override async Task<long> TotalAsync() => (await JetStream.GetStreamAsync(_stream)).Info.State.Messages;

    public override async Task StartAsync(DateTimeOffset since) => _base = await TotalAsync();

    public override async Task<long> StoredSinceStartAsync() => await TotalAsync() - _base;

    /// <remarks>
    /// The stream can't look a message up by its <c>Nats-Msg-Id</c>; the lookups are there to spare a SQL store a count per
    /// poll, and the stream's count is already that cheap, so this step is passed at once and the count decides.
    /// </remarks>
    public override Task<long> PresentAsync(string[] messageIds) => Task.FromResult<long>(messageIds.Length);

    public override async ValueTask DisposeAsync() => await _nats.DisposeAsync();
}
