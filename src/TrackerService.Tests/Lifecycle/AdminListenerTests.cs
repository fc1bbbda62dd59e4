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

        using var response = await admin.PostAsync("/events", Events.Json(Events.Track()));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
