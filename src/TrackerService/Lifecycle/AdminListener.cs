using System.Net;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace TrackerService.Lifecycle;

/// <summary>
/// The admin listener: a Kestrel server of its own on <see cref="AdminOptions.AdminUrl"/>, apart from the
/// public API. It is registered first, so it starts before the public listener and stops after the drain:
/// <c>/healthz/ready</c> answers 503 for the whole shutdown instead of going dark.
/// </summary>
/// <remarks>
/// It is a bare server over the service's own container, not a second host: a second host would handle
/// SIGTERM on its own and stop the listener at the first moment of shutdown.
/// </remarks>
internal sealed partial class AdminListener(
    IServiceProvider services,
    IOptions<AdminOptions> options,
    ILoggerFactory loggerFactory,
    ILogger<AdminListener> logger) : IHostedService, IDisposable
{
    private readonly List<ListenOptions> _endpoints = [];
    private KestrelServer? _server;

    /// <summary>The addresses the listener is bound to (with the real port when port 0 was asked for).</summary>
    public IReadOnlyCollection<string> Addresses => [.. _endpoints.Select(e => $"http://{e.IPEndPoint}")];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var kestrel = new KestrelServerOptions { ApplicationServices = services, AddServerHeader = false };
        var address = BindingAddress.Parse(options.Value.AdminUrl);
        var ip = address.Host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(address.Host.Trim('[', ']'), out var parsed) ? parsed
            : IPAddress.Any; // "*", "+" and host names mean every interface, as in Kestrel's own URLs
        kestrel.Listen(ip, address.Port, listen => _endpoints.Add(listen));

        var transport = new SocketTransportFactory(Microsoft.Extensions.Options.Options.Create(new SocketTransportOptions()), loggerFactory);
        _server = new KestrelServer(Microsoft.Extensions.Options.Options.Create(kestrel), transport, loggerFactory);
        try
        {
            await _server.StartAsync(new AdminApplication(BuildPipeline(), services), cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"The admin listener cannot bind to Tracker:AdminUrl = {options.Value.AdminUrl}: {ex.Message}", ex);
        }

        LogListening(logger, Addresses);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _server?.Dispose();

    private RequestDelegate BuildPipeline()
    {
        var app = new ApplicationBuilder(services);
        app.UseHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false });
        app.UseHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = r => r.Tags.Contains(ReadinessHealthCheck.Tag) });
        if (services.GetService<OpenTelemetry.Metrics.MeterProvider>() is not null)
        {
            app.UseOpenTelemetryPrometheusScrapingEndpoint(); // /metrics, Prometheus text format
        }

        return app.Build(); // anything else: 404
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Admin listener on {Addresses}")]
    private static partial void LogListening(ILogger logger, IReadOnlyCollection<string> addresses);

    private sealed class AdminApplication(RequestDelegate pipeline, IServiceProvider services) : IHttpApplication<HttpContext>
    {
        public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures) { RequestServices = services };

        public Task ProcessRequestAsync(HttpContext context) => pipeline(context);

        public void DisposeContext(HttpContext context, Exception? exception)
        {
        }
    }
}
