namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// The real-time bound on waiting for something that should already be on its way (a task, a condition, a row in
/// the store): a test that waits this long has failed. Never a pause; a test does not wait for time to pass.
/// </summary>
internal static class Patience
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);
}
