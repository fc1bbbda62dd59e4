using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;
using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Api;

/// <summary>The public API's part of the wiring: its options, parser and request decompression.</summary>
internal static class EventsApiExtensions
{
    public static IServiceCollection AddEventsApi(this IServiceCollection services)
    {
        services.AddTrackerOptions<ApiOptions, ApiOptionsValidator>(ApiOptions.Section);
        services.AddProblemDetails();
        // The public API's description, from the endpoints' own metadata. The body's media types are added here, not
        // as Accepts metadata: that would make routing answer other types with a bare 415 before the endpoint can say why.
        services.AddOpenApi(options => options.AddOperationTransformer((operation, context, _) =>
        {
            var name = context.Description.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
            if (name == EventsApi.PostEventsName)
            {
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "One event object or an array of them, UTF-8, optionally gzip-encoded (docs/http-api.md).",
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new(), ["text/plain"] = new() },
                };
            }
            else if (name?.StartsWith("Segment", StringComparison.Ordinal) == true)
            {
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = name is SegmentApi.BatchName or SegmentApi.ImportName
                        ? "A Segment batch envelope, JSON in UTF-8 under any media type, gzip by its Content-Encoding or its bytes (docs/http-api.md)."
                        : "The call's event object, JSON in UTF-8 under any media type, gzip by its Content-Encoding or its bytes (docs/http-api.md).",
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new(), ["text/plain"] = new() },
                };
            }

            return Task.CompletedTask;
        }));
        services.AddSingleton(sp => new EventBatchParser(sp.GetRequiredService<IOptions<ApiOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new SegmentBatchParser(sp.GetRequiredService<IOptions<ApiOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SegmentIntake>();
        services.AddTrackerOptions<PrivacyOptions, PrivacyOptionsValidator>(PrivacyOptions.Section);

        // gzip only, as the contract says: a body in another encoding keeps its Content-Encoding and gets a 415.
        services.AddRequestDecompression(options =>
        {
            options.DecompressionProviders.Clear();
            options.DecompressionProviders["gzip"] = new StrictGzipProvider(); // refuses a body cut short or padded
        });
        return services;
    }

    /// <summary>Request decompression, then the endpoints (<see cref="EventsApi.MapEventsApi"/>) and their OpenAPI description at <c>/openapi/v1.json</c>.</summary>
    public static WebApplication UseEventsApi(this WebApplication app)
    {
        app.UseRequestDecompression();
        app.MapEventsApi();
        app.MapSegmentApi().RequireCors(TrackerService.Auth.AuthExtensions.CorsPolicy); // browsers post from other origins
        app.MapOpenApi();
        return app;
    }

    /// <summary>
    /// The endpoint's body limit, <see cref="ApiOptions.MaxBodyBytes"/>, for the server (the body as sent) and the
    /// decompression middleware (the body inflated). Read when a request comes, not when the endpoint is mapped:
    /// reading the options at mapping time would validate them there, outside the start-up's one-line report.
    /// </summary>
    internal sealed class BodySizeLimit(IOptions<ApiOptions> options) : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => options.Value.MaxBodyBytes;
    }
}
