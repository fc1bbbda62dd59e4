using System.Net;
using System.Text;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary>The real process in a time zone other than UTC: a time without an offset is still read as UTC.</summary>
public sealed class EventTimeZoneTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-tz-").FullName;

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
    public async Task ReadsATimeWithoutAnOffsetAsUtcWhateverTheServersZone()
    {
        // Given the service running in Tokyo (UTC+9)
        await using var service = await ServiceProcess.StartAsync(_folder, new Dictionary<string, string> { ["TZ"] = "Asia/Tokyo" });

        // When an event's times carry no offset
        using var content = new StringContent(
            """{"event":"e","userId":"u","messageId":"tz","timestamp":"2026-01-31T12:00:00","sentAt":"2026-01-31T12:00:05.250"}""",
            Encoding.UTF8, "application/json");
        using var response = await service.Client.PostAsync("/events", content);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var (exitCode, _) = await service.TerminateAsync(Patience.Default * 2);

        // Then they are stored as those times in UTC, not 9 hours earlier
        Assert.Equal(0, exitCode);
        Assert.Equal(1, await StoreReader.CountAsync(service.DatabasePath,
            "timestamp = '2026-01-31T12:00:00.0000000Z' AND sent_at = '2026-01-31T12:00:05.2500000Z'"));
    }
}
