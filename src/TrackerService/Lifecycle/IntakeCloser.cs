using TrackerService.Pipeline;

namespace TrackerService.Lifecycle;

/// <summary>
/// The ingress side's end of the queue. Hosted services stop in reverse order of registration and the
/// web server is registered last, so this stops right after Kestrel has finished the requests in flight:
/// only then is the queue's writer completed, and the consumers, stopped after this, drain what is left.
/// </summary>
internal sealed class IntakeCloser(EventQueue queue) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        queue.CompleteWriter();
        return Task.CompletedTask;
    }
}
