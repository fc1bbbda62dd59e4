using System.Net;
using System.Text;
using System.Text.Json;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary><c>context.ip</c> on the Segment API, on a real listener (the in-memory test server has no client address).</summary>
public sealed class SegmentIpTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-ip-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task FillsContextIpFromTheConnectionWhenTheClientSentNone()
    {
        var contexts = await PostAndReadContextsAsync([], """{"userId":"u","event":"e"}""", """{"userId":"u","event":"e","context":{"ip":"203.0.113.9"}}""");

        Assert.Equal(["127.0.0.1", "203.0.113.9"], contexts.Select(c => c.GetProperty("ip").GetString()).Order());
    }

    [Fact]
    public async Task StoresNoIpWhenToldNotTo()
    {
        var contexts = await PostAndReadContextsAsync(
            new() { ["Tracker:Privacy:StoreIp"] = "false" },
            """{"userId":"u","event":"e"}""", """{"userId":"u","event":"e","context":{"ip":"203.0.113.9","locale":"fr"}}""");

        Assert.All(contexts, c => Assert.False(c.TryGetProperty("ip", out _)));
        Assert.Contains(contexts, c => c.TryGetProperty("locale", out _));
    }

    private async Task<JsonElement[]> PostAndReadContextsAsync(Dictionary<string, string?> settings, params string[] calls)
    {
        var database = Path.Combine(_folder, "events.db");
        settings["ConnectionStrings:Sqlite"] = $"Data Source={database}";
        settings["Tracker:Delivery:FlushInterval"] = "00:00:00.020";
        await using var host = TrackerHost.Build(settings);
        await host.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(host.Urls.Single()) };
        foreach (var call in calls)
        {
            using var response = await client.PostAsync("/v1/track", new StringContent(call, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await StoreReader.WaitForCountAsync(database, calls.Length);
        var rows = await StoreReader.QueryAsync(database, "SELECT coalesce(context, '{}') FROM events");
        await host.StopAsync();
        return [.. rows.Select(r => JsonDocument.Parse((string)r[0]!).RootElement)];
    }
}
