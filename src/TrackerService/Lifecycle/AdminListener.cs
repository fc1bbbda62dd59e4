using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace TrackerService.Lifecycle;

/// <summary>
/// The admin listener: its own small Kestrel server on <see cref="AdminOptions.AdminUrl"/>, apart from the
/// public API. It is registered first, so it starts before the public listener and stops after the drain:
/// <c>/healthz/ready</c> answers 503 for the whole shutdown instead of going dark.
/// </summary>
internal sealed partial class AdminListener(
    IServiceProvider services,
    IOptions<AdminOptions> options,
    ILogger<AdminListener> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    private readonly List<ListenOptions> _endpoints = [];

    /// <summary>The addresses the listener is bound to (with the real port when port 0 was asked for).</summary>
    public IReadOnlyCollection<string> Addresses => [.. _endpoints.Select(e => $"http://{e.IPEndPoint}")];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        var address = BindingAddress.Parse(options.Value.AdminUrl);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            // Endpoints are configured here, not with URLs, so that the bound port (when 0 was asked for) can be read back.
            var ip = address.Host == "localhost" ? IPAddress.Loopback
                : IPAddress.TryParse(address.Host.Trim('[', ']'), out var parsed) ? parsed
                : IPAddress.Any; // "*", "+" and host names mean every interface, as in Kestrel's own URLs
            kestrel.Listen(ip, address.Port, listen => _endpoints.Add(listen));
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(services.GetRequiredService<ILoggerFactory>());
        builder.Services.AddSingleton(services.GetRequiredService<HealthCheckService>());

        // The service's own host handles SIGTERM; this inner host must not react to it on its own.
        builder.Services.AddSingleton<IHostLifetime, InnerHostLifetime>();

        var app = builder.Build();
        app.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = r => r.Tags.Contains(ReadinessHealthCheck.Tag) });

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"The admin listener cannot bind to Tracker:AdminUrl = {options.Value.AdminUrl}: {ex.Message}", ex);
        }

        _app = app;
        LogListening(logger, Addresses);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Admin listener on {Addresses}")]
    private static partial void LogListening(ILogger logger, IReadOnlyCollection<string> addresses);

    private sealed class InnerHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
