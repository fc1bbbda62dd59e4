using System.Net;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Auth;

/// <summary>The real process: secure by default in Production, and keys that change in its settings file while it runs.</summary>
public sealed class WriteKeyProcessTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-keys-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // a temp folder left behind is harmless
        }
    }

    [Theory]
    [InlineData(null, null, "Tracker:WriteKeys = '' is invalid: Production needs at least one write key (or Tracker:Auth:AllowAnonymous=true")]
    [InlineData("Tracker__WriteKeys__0__KeySha256", "not-hex", "Tracker:WriteKeys:0:KeySha256 = 'not-hex' is invalid: it must be 64 hex digits")]
    [InlineData("Tracker__WriteKeys__0__Key", "also-a-key", "Tracker:WriteKeys:0 = 'web' is invalid: it must have either Key or KeySha256")]
    [InlineData("Tracker__Proxy__KnownProxies", "10.0.0.5", "Tracker:Proxy:KnownProxies = '10.0.0.5' is invalid: it must be a list, one key per item")]
    public async Task MissingKeysOrABadAccessSettingStopTheStart(string? variable, string? value, string expected)
    {
        // Given Production without anonymous access, and no keys, a bad key or a bad proxy setting
        var settings = new Dictionary<string, string> { [ServiceProcess.AllowAnonymous] = "false" };
        if (variable is not null)
        {
            settings["Tracker__WriteKeys__0__Id"] = "web";
            settings["Tracker__WriteKeys__0__KeySha256"] = WriteKeys.Sha256("k");
            settings[variable] = value!;
        }

        // When it starts
        var (exitCode, lines) = await ServiceProcess.RunToExitAsync(_folder, TimeSpan.FromSeconds(30), settings);

        // Then it exits 1 with one line naming the setting, and no key in it
        Assert.Equal(1, exitCode);
        var line = Assert.Single(lines);
        Assert.Contains("cannot start", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("also-a-key", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysChangedInTheSettingsFileTakeEffectWithoutARestart()
    {
        // Given the service running in Production with the keys of its own appsettings.json
        var app = ServiceProcess.CopyApp(Path.Combine(_folder, "app"), Settings(("web", "first-key")));
        var work = Directory.CreateDirectory(Path.Combine(_folder, "work")).FullName;
        await using var service = await ServiceProcess.StartAsync(work, new Dictionary<string, string> { [ServiceProcess.AllowAnonymous] = "false" }, app);
        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(service, "first-key", "reload-1"));

        // When the key is replaced by another in the file
        await File.WriteAllTextAsync(Path.Combine(app, "appsettings.json"), Settings(("web", "second-key")));

        // Then within seconds the old key is refused and the new one taken, by the same process
        Assert.True(await Eventually.TrueAsync(async () => await PostAsync(service, "first-key", $"reload-{Guid.NewGuid():N}") == HttpStatusCode.Unauthorized, Patience.Default),
            service.Output);
        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(service, "second-key", "reload-2"));

        // When the file gets a bad key (no Key nor KeySha256)
        await File.WriteAllTextAsync(Path.Combine(app, "appsettings.json"), """{"Tracker":{"WriteKeys":[{"Id":"web"}]},"Serilog":{"WriteTo":[{"Name":"Console"}]}}""");

        // Then the service says so, keeps running on the last good keys
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(service.Output.Contains("previous ones stay in force", StringComparison.Ordinal)), Patience.Default),
            service.Output);
        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(service, "second-key", "reload-3"));
        Assert.DoesNotContain("second-key", service.Output, StringComparison.Ordinal);
    }

    /// <summary>The settings file: the keys, and the shipped file's console log (the reload's lines are read from it).</summary>
    private static string Settings(params (string Id, string Key)[] keys) => System.Text.Json.JsonSerializer.Serialize(new
    {
        Tracker = new { WriteKeys = keys.Select(k => new { k.Id, k.Key }) },
        Serilog = new { WriteTo = new[] { new { Name = "Console" } } },
    });

    private static async Task<HttpStatusCode> PostAsync(ServiceProcess service, string key, string messageId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/events") { Content = Bodies.Json(Bodies.Track(messageId)) };
        request.Headers.Authorization = WriteKeys.Basic(key);
        using var response = await service.Client.SendAsync(request);
        return response.StatusCode;
    }
}
