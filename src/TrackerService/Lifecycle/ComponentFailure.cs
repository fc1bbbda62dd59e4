namespace TrackerService.Lifecycle;

/// <summary>
/// Where a component that can't go on reports it: the whole host then stops through the normal
/// drain-and-spill path and the process exits non-zero, so the orchestrator restarts it.
/// </summary>
internal sealed partial class ComponentFailure(IHostApplicationLifetime lifetime, ILogger<ComponentFailure> logger)
{
    private int _failed;

    /// <summary>The process exit code: 0, or 1 once any component has failed.</summary>
    public int ExitCode => Volatile.Read(ref _failed) == 0 ? 0 : 1;

    public void Fail(string component, Exception exception)
    {
        Interlocked.Exchange(ref _failed, 1);
        LogFailed(logger, exception, component);
        lifetime.StopApplication();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Critical, Message = "{Component} failed; stopping the service (exit code 1)")]
    private static partial void LogFailed(ILogger logger, Exception exception, string component);
}
