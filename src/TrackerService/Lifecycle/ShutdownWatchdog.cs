using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using TrackerService.Spill;

namespace TrackerService.Lifecycle;

/// <summary>
/// The last guarantee of the shutdown budget: from the first moment of stopping, the process exits by
/// <see cref="ShutdownOptions.Timeout"/> + 0.9 s with its proper exit code, even if some teardown (a driver
/// waiting on a frozen server, a provider flushing to a dead collector) would hold it longer. By then the
/// coordinator has drained or spilled everything: only teardown can be cut. A spill still being written
/// then (a disk slower than planned for) is waited for, up to one more budget: its events exist nowhere else.
/// </summary>
internal static partial class ShutdownWatchdog
{
    private static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(900);

    private static readonly TimeSpan SpillPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>Arms the watchdog when the service runs on Kestrel (a real process, not an in-memory test host).</summary>
    public static WebApplication ExitWithinShutdownBudget(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IServer>().GetType().Assembly != typeof(KestrelServerOptions).Assembly)
        {
            return app; // a test server shares its process with the test runner: never exit it
        }

        var budget = app.Services.GetRequiredService<IOptions<ShutdownOptions>>().Value.Timeout + Margin;
        var failure = app.Services.GetRequiredService<ComponentFailure>();
        var spill = app.Services.GetService<SpillStore>(); // none in a loader: it spills nothing
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ShutdownWatchdog).FullName!);
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            // A dedicated thread: the thread pool may be the thing that is stuck.
            var watchdog = new Thread(() =>
            {
                Thread.Sleep(budget);
                if (spill?.IsWriting == true)
                {
                    LogWaitingForSpill(logger, budget.TotalMilliseconds);
                    var extra = Stopwatch.StartNew();
                    while (spill.IsWriting && extra.Elapsed < budget)
                    {
                        Thread.Sleep(SpillPoll);
                    }
                }

                LogForcedExit(logger, budget.TotalMilliseconds, failure.ExitCode);
                Environment.Exit(failure.ExitCode);
            })
            {
                IsBackground = true,
                Name = "shutdown watchdog",
            };
            watchdog.Start();
        });
        return app;
    }

    [LoggerMessage(EventId = 504, Level = LogLevel.Warning, Message = "The shutdown budget ({BudgetMs} ms from the signal) is spent while the spill is still being written; waiting for it")]
    private static partial void LogWaitingForSpill(ILogger logger, double budgetMs);

    [LoggerMessage(EventId = 503, Level = LogLevel.Warning, Message = "Teardown outlasted the shutdown budget ({BudgetMs} ms from the signal); exiting now with code {ExitCode}")]
    private static partial void LogForcedExit(ILogger logger, double budgetMs, int exitCode);
}
