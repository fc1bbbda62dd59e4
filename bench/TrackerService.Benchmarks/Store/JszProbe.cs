using System.Text.Json;

namespace TrackerService.Benchmarks.Store;

/// <summary>
/// The e2e command's probe for a JetStream stream, by nats-server's monitoring endpoint rather than a NATS client:
/// <c>jsz:&lt;monitoring url&gt;[#stream]</c>, e.g. <c>jsz:http://127.0.0.1:8222#TRACKER_EVENTS</c> (the stream defaults to
/// <c>TRACKER_EVENTS</c>). It reads the stream's <c>state.last_seq</c> from <c>/jsz?streams=true</c>
/// (<c>account_details[].stream_detail[]</c>), which bench/run's scale section polls for its completion check.
/// </summary>
/// <remarks>
/// <para>
/// The last sequence, not the message count: a stream created with a byte limit (bench/run sets one, to bound the
/// temporary store over a long run) drops its oldest messages, while every message it stores takes the next sequence.
/// A copy the stream drops as a duplicate (its <c>Nats-Msg-Id</c> seen within the duplicate window) takes none. The
/// e2e run's message ids are its own, so the sequence grows by exactly the run's events when each reached the stream
/// once, and by more if a copy was stored past the window, which the e2e command reports as a failure.
/// </para>
/// <para>
/// The monitoring endpoint can't look a message id up: <see cref="PresentAsync"/> answers that every id is there, and
/// the count that the e2e command waits for next is the whole check. Only one server's view is read: for a stream of
/// one replica (the scale section's single server) that is the stream.
/// </para>
/// </remarks>
internal sealed class JszProbe : StoreProbe
{
    private readonly HttpClient _client = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly Uri _jsz;
    private readonly string _stream;
    private long _base;

    public JszProbe(string target)
    {
        var hash = target.IndexOf('#', StringComparison.Ordinal);
        _stream = hash >= 0 ? target[(hash + 1)..] : "TRACKER_EVENTS";
        var monitor = hash >= 0 ? target[..hash] : target;
        _jsz = new Uri(new Uri(monitor.TrimEnd('/') + "/"), "jsz?streams=true");
    }

    public override Task<long> TotalAsync() => LastSequenceAsync();

    public override async Task StartAsync(DateTimeOffset since) => _base = await LastSequenceAsync();

    public override async Task<long> StoredSinceStartAsync() => await LastSequenceAsync() - _base;

    public override Task<long> PresentAsync(string[] messageIds) => Task.FromResult((long)messageIds.Length);

    public override ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The stream's last sequence; 0 while the server does not list it (not created yet, or no message).</summary>
    private async Task<long> LastSequenceAsync()
    {
        using var json = JsonDocument.Parse(await _client.GetStringAsync(_jsz));
        if (!json.RootElement.TryGetProperty("account_details", out var accounts))
        {
            return 0;
        }

        foreach (var account in accounts.EnumerateArray())
        {
            if (!account.TryGetProperty("stream_detail", out var streams))
            {
                continue;
            }

            foreach (var stream in streams.EnumerateArray())
            {
                if (stream.GetProperty("name").GetString() == _stream && stream.TryGetProperty("state", out var state))
                {
                    return state.GetProperty("last_seq").GetInt64();
                }
            }
        }

        return 0;
    }
}
