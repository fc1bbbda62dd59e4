using System.Text.RegularExpressions;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Deployment;

/// <summary>
/// <c>docker-compose.scale.yml</c> as Docker Compose reads it (<see cref="Compose"/>): three clustered NATS nodes with a
/// volume each, two JetStream intake replicas behind the nginx balancer (the one published port but Jaeger's UI), one
/// loader on PostgreSQL; and the NATS and nginx configs it mounts name those same services.
/// </summary>
public sealed class ScaleComposeFileTests
{
    private const string File = "docker-compose.scale.yml";

    private static readonly string[] Nats = ["nats-1", "nats-2", "nats-3"];

    private static readonly string[] Intakes = ["tracker-1", "tracker-2"];

    [SkippableFact]
    public async Task RunsThreeNatsNodesTwoIntakeReplicasBehindTheBalancerAndALoader()
    {
        // Given the scale-out compose file, validated and normalised by Docker Compose
        var (config, services) = await Compose.ConfigAsync(File);

        // Then it names exactly its services
        Assert.Equal(["jaeger", "lb", "loader", .. Nats, "postgres", .. Intakes], services);

        // And each NATS node has its name, its own volume and a health check
        foreach (var node in Nats)
        {
            var service = Compose.Service(config, node);
            Assert.Matches($@"--server_name\s+- {node}\b", service);
            Assert.True(Mounts(service, $"{node}-data", "/data"), service);
            Assert.Contains("healthcheck:", service, StringComparison.Ordinal);
        }

        // And each intake replica publishes to the three nodes with three replicas, keeps its own spill, waits for
        // healthy nodes, publishes no port and stops within its grace period
        foreach (var intake in Intakes)
        {
            var service = Compose.Service(config, intake);
            Assert.Contains("Tracker__Sink__Kind: JetStream", service, StringComparison.Ordinal);
            Assert.Contains("Tracker__JetStream__Url: nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222", service, StringComparison.Ordinal);
            Assert.Matches(@"Tracker__JetStream__Replicas: ['""]?3['""]?\n", service);
            Assert.True(Mounts(service, $"{intake}-data", "/app/data"), service);
            Assert.Matches(@"nats-1:\s+condition: service_healthy", service);
            Assert.DoesNotContain("ports:", service, StringComparison.Ordinal);
            ComposeFileTests.AssertGracePeriodAboveShutdownBudget(service);
        }

        // And the loader consumes the same stream into PostgreSQL once that is healthy
        var loader = Compose.Service(config, "loader");
        Assert.Contains("Tracker__Role: Loader", loader, StringComparison.Ordinal);
        Assert.Contains("Tracker__Sink__Kind: Postgres", loader, StringComparison.Ordinal);
        Assert.Matches(@"Tracker__JetStream__Replicas: ['""]?3['""]?\n", loader);
        Assert.Matches(@"postgres:\s+condition: service_healthy", loader);
        Assert.DoesNotContain("ports:", loader, StringComparison.Ordinal);
        ComposeFileTests.AssertGracePeriodAboveShutdownBudget(loader);

        // And only the balancer publishes the API, once both replicas are healthy
        var lb = Compose.Service(config, "lb");
        Assert.Equal(["8080"], Published(lb));
        Assert.Equal(["16686"], Published(Compose.Service(config, "jaeger")));
        Assert.All(Intakes, intake => Assert.Matches($@"{intake}:\s+condition: service_healthy", lb));
        Assert.Contains("/etc/nginx/tracker-proxy.conf", lb, StringComparison.Ordinal);
    }

    [Fact]
    public void TheMountedConfigsNameTheComposeServices()
    {
        // Given the nginx and NATS configs the compose file mounts
        var nginx = System.IO.File.ReadAllText(Path.Combine(Repository.Root, "deploy", "nginx", "nginx.conf"));
        var nats = System.IO.File.ReadAllText(Path.Combine(Repository.Root, "deploy", "nats", "cluster.conf"));

        // Then the balancer's upstreams are the intake replicas, with the shared proxy rules, and every node is a route
        Assert.Equal(Intakes.Select(i => $"{i}:8080"), Regex.Matches(nginx, @"^\s*server ([\w.-]+:\d+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value));
        Assert.Contains("include /etc/nginx/tracker-proxy.conf;", nginx, StringComparison.Ordinal);
        Assert.Equal(Nats.Select(n => $"nats-route://{n}:6222"), Regex.Matches(nats, @"nats-route://\S+").Select(m => m.Value));
    }

    /// <summary>Whether a service mounts a named volume at a path, in Compose v1's short form or v2's long one.</summary>
    private static bool Mounts(string service, string volume, string target) =>
        Regex.IsMatch(service, $@"- {Regex.Escape(volume)}:{Regex.Escape(target)}(?::rw)?\n|source: {Regex.Escape(volume)}\s+target: {Regex.Escape(target)}\n");

    private static string[] Published(string service) =>
        [.. Regex.Matches(service, @"published: ""?(\d+)""?").Select(m => m.Groups[1].Value)];
}
