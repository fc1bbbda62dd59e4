using Serilog.Events;
using TrackerService.Telemetry;

namespace TrackerService.Tests.Telemetry;

public sealed class LoggingExtensionsTests
{
    [Theory]
    [InlineData(202, 3.0, LogEventLevel.Debug)]
    [InlineData(202, 1500.0, LogEventLevel.Information)]
    [InlineData(400, 3.0, LogEventLevel.Warning)]
    [InlineData(413, 3.0, LogEventLevel.Warning)]
    [InlineData(503, 3.0, LogEventLevel.Warning)]
    [InlineData(500, 3.0, LogEventLevel.Error)]
    public void LogsARequestAtALevelThatSaysHowItWent(int status, double elapsedMs, LogEventLevel expected) =>
        Assert.Equal(expected, LoggingExtensions.RequestLevel(status, elapsedMs, exception: null));

    [Fact]
    public void LogsARequestThatThrewAsAnError() =>
        Assert.Equal(LogEventLevel.Error, LoggingExtensions.RequestLevel(200, 1, new InvalidOperationException("boom")));
}
