using System.Net;
using Microsoft.Data.Sqlite;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Telemetry;

/// <summary>A refused request's log line, on the real process, says why it was refused and not only its status.</summary>
public sealed class RequestRefusalLogTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-process-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task LogsTheProblemsTitleAndFirstErrorOfARefusedRequest()
    {
        await using var service = await ServiceProcess.StartAsync(_folder);

        // When an invalid event and a body of another media type are posted
        using var invalid = await service.Client.PostAsync("/events", Bodies.Raw("""{"event":"x","userId":"u","properties":{"n":1e999999}}"""));
        using var unsupported = await service.Client.PostAsync("/events", Bodies.Raw("{}", "application/xml"));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported.StatusCode);

        // Then each request's line names the problem and its first error
        Assert.True(await Eventually.TrueAsync(
            () => Task.FromResult(service.Output.Contains("responded 415", StringComparison.Ordinal)), Patience.Default), service.Output);
        var lines = service.Output.Split('\n');
        Assert.Contains(lines, l => l.Contains("responded 400", StringComparison.Ordinal)
            && l.Contains("Invalid events: 1 event(s) are invalid; none were accepted. [0].properties: Holds a number", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("responded 415", StringComparison.Ordinal)
            && l.Contains("Unsupported media type: Content-Type 'application/xml", StringComparison.Ordinal));
    }
}
