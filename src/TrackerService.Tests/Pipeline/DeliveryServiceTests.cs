using Microsoft.Extensions.DependencyInjection;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Pipeline;

public sealed class DeliveryServiceTests
{
    [Fact]
    public async Task DrainsEveryAcceptedEventWhenTheHostStops()
    {
        // Given events accepted while the flush interval is long, so they are still queued or batching
        using var app = new TrackerApplication(new() { ["Tracker:Delivery:FlushInterval"] = "00:01:00" });
        using var client = app.CreateClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(r => client.PostAsync("/events", Bodies.Json(Bodies.Batch(37, $"d{r}")))));
        Assert.All(responses, r => r.EnsureSuccessStatusCode());

        // When the host stops
        await app.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHost>().StopAsync();

        // Then every accepted event is in the store
        Assert.Equal(370, await app.CountStoredAsync());
    }
}
