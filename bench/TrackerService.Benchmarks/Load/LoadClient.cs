using System.Net;
using System.Net.Http.Headers;

namespace TrackerService.Benchmarks.Load;

/// <summary>The HTTP client side of the load commands: pooled HTTP/1.1 connections, no proxy, cookies or redirects.</summary>
internal static class LoadClient
{
    public static readonly MediaTypeHeaderValue Json = new("application/json");

    public static HttpMessageInvoker Create(int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    }, disposeHandler: true);

    /// <summary>A request's content over a prepared body (the bytes are shared, not copied; the content object is not).</summary>
    public static ByteArrayContent Content(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = Json;
        return content;
    }

    /// <summary>POSTs a prepared body and reads the answer to its end; the request is not disposed, so neither is the content.</summary>
    public static async Task<HttpStatusCode> PostAsync(HttpMessageInvoker invoker, Uri url, ByteArrayContent content, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        using var response = await invoker.SendAsync(request, cancellationToken);
        await response.Content.CopyToAsync(System.IO.Stream.Null, cancellationToken);
        return response.StatusCode;
    }
}
