using TrackerService.Lifecycle;

namespace TrackerService.Tests.Lifecycle;

public sealed class ShutdownOptionsValidatorTests
{
    [Theory]
    [InlineData("00:00:25", "00:00:25")]
    [InlineData("00:00:30", "00:00:25")]
    [InlineData("-00:00:01", "00:00:25")]
    public void RefusesARequestsShareThatIsNotLessThanTheBudget(string requestsTimeout, string timeout)
    {
        var options = new ShutdownOptions { RequestsTimeout = TimeSpan.Parse(requestsTimeout, System.Globalization.CultureInfo.InvariantCulture), Timeout = TimeSpan.Parse(timeout, System.Globalization.CultureInfo.InvariantCulture) };

        var result = new ShutdownOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"Tracker:Shutdown:RequestsTimeout = '{requestsTimeout}' is invalid: it must be at least 00:00:00 and less than Tracker:Shutdown:Timeout ({timeout})", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:25", 5_000)]
    [InlineData("00:00:02", 400)]
    public void TakesTheDefaultShareAFifthOfTheBudgetWhateverItIs(string timeout, int shareMs)
    {
        var options = new ShutdownOptions { Timeout = TimeSpan.Parse(timeout, System.Globalization.CultureInfo.InvariantCulture) };

        Assert.True(new ShutdownOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(TimeSpan.FromMilliseconds(shareMs), options.RequestsShare);
    }
}
