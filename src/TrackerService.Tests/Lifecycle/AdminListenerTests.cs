using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TrackerService.Lifecycle;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Lifecycle;

public sealed class AdminListenerTests
{
    [Theory]
    [InlineData("/healthz/live")]
    [InlineData("/healthz/ready")]
    public async Task AnswersHealthOnItsOwnPort(string path)
    {
        // Given a started service
        using var app = new TrackerApplication();
        using var _ = app.CreateClient();
        using var admin = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<AdminListener>().Addresses.Single()) };

        // When the admin listener is asked
        using var response = await admin.GetAsync(path);

        // Then the service is live and ready
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task DoesNotServeTheEventsApi()
    {
        using var app = new TrackerApplication();
        using var _ = app.CreateClient();
        using var admin = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<AdminListener>().Addresses.Single()) };

        using var response = await admin.PostAsync("/events", Bodies.Json(Bodies.Track()));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task FailsStartUpWithTheAddressWhenItsPortIsTaken()
    {
        // Given a port another process is listening on
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var url = $"http://127.0.0.1:{((System.Net.IPEndPoint)taken.LocalEndpoint).Port}";
        await using var app = TrackerHost.Build(new() { ["Tracker:AdminUrl"] = url });

        // When the service starts
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        // Then start-up fails naming the setting and the address
        Assert.Contains($"Tracker:AdminUrl = {url}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnswersNotReadyWhileShuttingDownAndKeepsTakingEventsDuringTheDrainDelay()
    {
        // Given a service with a drain delay
        using var app = new TrackerApplication(new() { ["Tracker:Shutdown:DrainDelay"] = "00:00:02" });
        using var client = app.CreateClient();
        using var admin = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<AdminListener>().Addresses.Single()) };
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/healthz/ready")).StatusCode);

        // When it begins to stop, as on SIGTERM: the lifetime signals stopping, then the host stops its services
        app.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().StopApplication();
        var stopping = app.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHost>().StopAsync();

        // Then readiness is 503 at once, events are still accepted during the delay, and they are stored
        using var ready = await admin.GetAsync("/healthz/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using var late = await client.PostAsync("/events", Bodies.Json(Bodies.Track("during-drain-delay")));
        Assert.Equal(HttpStatusCode.Accepted, late.StatusCode);
        Assert.False(stopping.IsCompleted);
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await app.CountStoredAsync("message_id = 'during-drain-delay'"));
    }
}
