using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// The cluster fixture does what the scale-out tests rely on: a real three-node JetStream cluster whose stream keeps
/// its messages and takes publishes through the kill of its leader and that node's restart on its store.
/// </summary>
public sealed class NatsClusterTests
{
    private const string Stream = "FIXTURE";

    [Fact]
    public async Task AStreamOfThreeReplicasSurvivesTheKillOfItsLeaderAndCatchesItUpOnRestart()
    {
        // Given a three-node cluster with a leader, and a stream of three replicas holding one message
        await using var cluster = await NatsCluster.StartAsync();
        Assert.Equal(3, cluster.ClientUrls.Split(',').Length);
        await using var nats = new NatsConnection(new NatsOpts { Url = cluster.ClientUrls });
        var js = new NatsJSContext(nats);
        await js.CreateStreamAsync(new StreamConfig(Stream, ["fixture.>"]) { NumReplicas = 3 });
        await PublishAsync(js, "before");
        var leader = await cluster.StreamLeaderAsync(Stream);
        Assert.Equal(await LeaderByApiAsync(js), leader.Name);

        // When the stream's leader is killed
        leader.Kill();

        // Then another node is elected to lead it, and the stream takes a publish on the two that are left
        var next = await cluster.StreamLeaderAsync(Stream);
        Assert.NotEqual(leader.Name, next.Name);
        await PublishAsync(js, "during");
        Assert.Equal(await LeaderByApiAsync(js), next.Name);
        await cluster.WaitForMetaLeaderAsync();

        // And when the killed node starts again on its store, it rejoins and catches up with what it missed
        await leader.StartAsync();
        await cluster.WaitForMetaLeaderAsync();
        Assert.True(
            await Eventually.TrueAsync(async () => await MessagesOnAsync(leader) == 2, Patience.Default),
            $"{leader.Name} holds {await MessagesOnAsync(leader)} messages of {Stream}, not 2.\n{cluster.Output}");
    }

    [Fact]
    public async Task AStoppedNodeLeavesAWorkingMajorityAndRejoinsWhenStarted()
    {
        // Given a formed cluster
        await using var cluster = await NatsCluster.StartAsync();
        var leader = await cluster.WaitForMetaLeaderAsync();

        // When its meta leader is stopped with SIGTERM
        leader.Stop();

        // Then the other two elect a leader of their own
        Assert.False(leader.IsRunning);
        var next = await cluster.WaitForMetaLeaderAsync();
        Assert.NotEqual(leader.Name, next.Name);

        // And the stopped node, started again, is a current peer of that leader
        await leader.StartAsync();
        await cluster.WaitForMetaLeaderAsync();
        Assert.All(cluster.Nodes, n => Assert.True(n.IsRunning, n.Name));
    }

    /// <summary>Publishes until the stream acknowledges: right after an election the client may still be reconnecting.</summary>
    private static async Task PublishAsync(NatsJSContext js, string text)
    {
        Exception? last = null;
        var acked = await Eventually.TrueAsync(async () =>
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                (await js.PublishAsync($"fixture.{text}", text, cancellationToken: timeout.Token)).EnsureSuccess();
                return true;
            }
            catch (Exception ex) when (ex is NatsException or OperationCanceledException or TimeoutException)
            {
                last = ex;
                return false;
            }
        }, Patience.Default);
        Assert.True(acked, $"No ack for '{text}': {last}");
    }

    /// <summary>The stream's leader as JetStream's own API (<c>$JS.API.STREAM.INFO</c>) tells it.</summary>
    private static async Task<string?> LeaderByApiAsync(NatsJSContext js) => (await js.GetStreamAsync(Stream)).Info.Cluster?.Leader;

    /// <summary>How many messages the node's own replica of the stream holds (its <c>/jsz</c> state).</summary>
    private static async Task<long> MessagesOnAsync(NatsNode node)
    {
        var jsz = await node.GetAsync("jsz?streams=true");
        return jsz?.GetProperty("account_details").EnumerateArray()
            .SelectMany(a => a.TryGetProperty("stream_detail", out var s) ? s.EnumerateArray() : [])
            .Where(s => s.GetProperty("name").GetString() == Stream)
            .Select(s => s.GetProperty("state").GetProperty("messages").GetInt64())
            .FirstOrDefault() ?? -1;
    }
}
