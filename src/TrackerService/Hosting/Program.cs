using Serilog;
using TrackerService.Hosting;
using TrackerService.Lifecycle;
using TrackerService.Telemetry;

Log.Logger = new LoggerConfiguration()
    .WriteTo.Console()
    .CreateBootstrapLogger();

try
{
    // Settings files ship beside the binary; relative data paths (data/) resolve against the working directory.
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.AddTrackerLogging();
    builder.AddTrackerTelemetry();
    builder.AddTracker();

    var app = builder.Build();
    app.ValidateSettings();
    app.UseTrackerRequestLogging();
    app.MapTrackerEndpoints();
    app.ExitWithinShutdownBudget();
    var failure = app.Services.GetRequiredService<ComponentFailure>(); // RunAsync disposes the container
    await app.RunAsync();
    return failure.ExitCode;
}
catch (Exception ex) when (InvalidSettings.Describe(ex) is { } settings)
{
    Log.Fatal("TrackerService cannot start: {Settings:l}", settings);
    return 1;
}
catch (Exception ex) when (ex is TrackerService.Sinks.SchemaVersionException or TrackerService.Streaming.JetStreamStartException)
{
    // A store newer than this code, or a stream that can't be used as configured, is an operator's matter, not a
    // bug: a line that says so, without a stack trace.
    Log.Fatal("TrackerService cannot start: {Reason:l}", ex.Message);
    return 1;
}
catch (Exception ex) when (ex is not HostAbortedException)
{
    Log.Fatal(ex, "TrackerService failed to start or stopped unexpectedly");
    return 1;
}
finally
{
    await Log.CloseAndFlushAsync();
}

/// <summary>The entry point; public so that test hosts can find it.</summary>
public partial class Program;
