using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using TrackerService.Hosting;

namespace TrackerService.Tests.Infrastructure;

/// <summary>The service's real wiring on real (free) ports, started and stopped by the test itself.</summary>
internal static class TrackerHost
{
    public static WebApplication Build(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Tracker:AdminUrl"] = "http://127.0.0.1:0",
            ["ConnectionStrings:Sqlite"] = $"Data Source=file:{Guid.NewGuid():N}?mode=memory&cache=shared",
            ["Tracker:Spill:Directory"] = Path.Combine(Path.GetTempPath(), $"tracker-spill-{Guid.NewGuid():N}"),
            ["Tracker:Auth:AllowAnonymous"] = "true", // tests post without a write key unless they are about keys
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddTracker();
        var app = builder.Build();
        app.MapTrackerEndpoints();
        return app;
    }
}
