using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Hosting;

/// <summary>Kestrel's connection limits: the service's defaults, overridden by any setting, and honoured by the real server.</summary>
public sealed class KestrelLimitsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-keepalive-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    [Fact]
    public async Task AppliesTheServicesDefaults()
    {
        await using var app = TrackerHost.Build([]);

        var limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(1000, limits.MaxConcurrentConnections);
        Assert.Equal(TimeSpan.FromSeconds(90), limits.KeepAliveTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.RequestHeadersTimeout);
    }

    [Fact]
    public async Task LetsASettingOverrideADefaultAndBindsKestrelsOtherLimits()
    {
        await using var app = TrackerHost.Build(new()
        {
            ["Kestrel:Limits:KeepAliveTimeout"] = "00:00:45",
            ["Kestrel:Limits:MaxRequestHeaderCount"] = "50",
        });

        var limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(TimeSpan.FromSeconds(45), limits.KeepAliveTimeout);
        Assert.Equal(50, limits.MaxRequestHeaderCount);
        Assert.Equal(1000, limits.MaxConcurrentConnections);
    }

    [Fact]
    public async Task TheRealServerClosesAnIdleConnectionAfterTheKeepAliveTimeoutFromTheEnvironment()
    {
        // Given the service with a 1 s keep-alive, set as an operator would, and a connection that made one request
        await using var service = await ServiceProcess.StartAsync(_folder, new Dictionary<string, string>
        {
            ["Kestrel__Limits__KeepAliveTimeout"] = "00:00:01",
        });
        var api = service.Client.BaseAddress!;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, api.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /nothing HTTP/1.1\r\nHost: {api.Authority}\r\n\r\n"));

        // When it stays idle, then the server closes it (Kestrel's own default would hold it 130 s, ours 90 s)
        using var patience = new CancellationTokenSource(Patience.Default);
        var buffer = new byte[4096];
        var answered = await socket.ReceiveAsync(buffer, patience.Token);
        Assert.StartsWith("HTTP/1.1 404", Encoding.ASCII.GetString(buffer, 0, answered), StringComparison.Ordinal);
        while (await socket.ReceiveAsync(buffer, patience.Token) > 0)
        {
        }

        Assert.Contains("keep-alive 1 s", service.Output, StringComparison.Ordinal);
    }
}
