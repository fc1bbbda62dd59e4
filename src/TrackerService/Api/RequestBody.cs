using System.Buffers;
using Microsoft.Net.Http.Headers;

namespace TrackerService.Api;

internal enum RequestBodyStatus
{
    Read,
    UnsupportedMediaType,
    TooLarge,
    BadEncoding,

    /// <summary>The body stopped short: the client closed the connection or sent it too slowly.</summary>
    Incomplete,
}

/// <summary>
/// A request body read into a pooled buffer, its size capped. A gzip body arrives already inflating: ASP.NET
/// Core's request decompression (gzip only, <see cref="EventsApiExtensions"/>) wraps the body in a stream
/// capped at the endpoint's size limit, which fails the read with a 413 once the inflated body passes it
/// (answered 500 before dotnet/aspnetcore#61812 fixed #61723; 413 on 10.0.12). Dispose to return the buffer.
/// </summary>
internal sealed class RequestBody : IDisposable
{
    /// <summary>
    /// The first buffer, in bytes: most bodies (one event, a small batch) fit it, and a larger body doubles it as
    /// its bytes arrive, so a connection never holds more than about twice what it has sent.
    /// </summary>
    internal const int InitialBytes = 16 * 1024;

    private byte[]? _buffer;

    private RequestBody(RequestBodyStatus status, string? detail, byte[]? buffer = null, int length = 0, int statusCode = 0)
    {
        Status = status;
        Detail = detail;
        _buffer = buffer;
        Length = length;
        StatusCode = statusCode;
    }

    public RequestBodyStatus Status { get; }

    /// <summary>For <see cref="RequestBodyStatus.Incomplete"/>: the HTTP status the server gave the failed read (400, 408, 413).</summary>
    public int StatusCode { get; }

    /// <summary>Why the body was refused, for the problem details.</summary>
    public string? Detail { get; }

    public int Length { get; }

    public ReadOnlySpan<byte> Json => _buffer.AsSpan(0, Length);

    /// <param name="anyMediaType">
    /// Take the body whatever its Content-Type says, and inflate it when its bytes are gzip though no Content-Encoding
    /// says so: the Segment API, whose clients label bodies in many ways.
    /// </param>
    public static async Task<RequestBody> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken, bool anyMediaType = false)
    {
        if (!anyMediaType && !IsSupportedContentType(request.ContentType))
        {
            return new(RequestBodyStatus.UnsupportedMediaType,
                $"Content-Type '{request.ContentType}' is not supported; send application/json or text/plain (UTF-8).");
        }

        // The decompression middleware has taken a gzip encoding off the headers and is inflating the body. What
        // is still named here is an encoding it does not inflate (br, deflate, zstd, or a list of several).
        foreach (var encoding in request.Headers.ContentEncoding)
        {
            if (!string.Equals(encoding, "identity", StringComparison.OrdinalIgnoreCase))
            {
                return new(RequestBodyStatus.UnsupportedMediaType, $"Content-Encoding '{encoding}' is not supported; send gzip (alone) or no encoding.");
            }
        }

        if (request.ContentLength > maxBytes)
        {
            return TooLarge(maxBytes);
        }

        var body = await ReadAllAsync(request.Body, request.ContentLength, request, maxBytes, cancellationToken).ConfigureAwait(false);
        if (anyMediaType && body.Status == RequestBodyStatus.Read && IsGzip(body.Json))
        {
            // gzip no Content-Encoding named: inflated as strictly as a labelled one, under the same limit, by the same read.
            using (body)
            {
                using var inflating = new StrictGzipStream(new MemoryStream(body._buffer!, 0, body.Length, writable: false));
                return await ReadAllAsync(inflating, null, request, maxBytes, cancellationToken).ConfigureAwait(false);
            }
        }

        return body;
    }

    /// <summary>Whether the body starts as gzip does (RFC 1952: 1F 8B 08), as no JSON text can.</summary>
    private static bool IsGzip(ReadOnlySpan<byte> body) => body is [0x1F, 0x8B, 0x08, ..];

    /// <summary>Reads <paramref name="source"/> to its end into a pooled buffer, refusing it past <paramref name="maxBytes"/>.</summary>
    /// <param name="declaredLength">The length the client declared, if any: a hint for the first buffer, never trusted beyond it.</param>
    private static async Task<RequestBody> ReadAllAsync(Stream source, long? declaredLength, HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        // The buffer follows the bytes that have arrived, not the Content-Length the client declared: a declared
        // length costs nothing to send, and reserving it up front let header-only connections exhaust the heap.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(declaredLength ?? InitialBytes, 1, Math.Min(InitialBytes, maxBytes)));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == maxBytes)
                {
                    // Full at the limit: one more byte is how an over-limit body shows itself (without a
                    // Content-Length, or after inflation); a pooled array has room for it or a 1-byte one does.
                    Memory<byte> spare = buffer.Length > length ? buffer.AsMemory(length, 1) : new byte[1];
                    length += await source.ReadAsync(spare, cancellationToken).ConfigureAwait(false);
                    break;
                }

                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, maxBytes));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await source.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, maxBytes) - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }
        }
        catch (InvalidDataException error)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return new(RequestBodyStatus.BadEncoding, error.Message == StrictGzipStream.EndRefused ? $"The body is not valid gzip: {error.Message}." : "The body is not valid gzip.");
        }
        catch (BadHttpRequestException error)
        {
            // The server's word on the body: it ended before Content-Length (400), it came too slowly (408), or it
            // passed the size limit, before or after inflation (413). The client's fault, not the service's.
            ArrayPool<byte>.Shared.Return(buffer);
            return error.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? TooLarge(maxBytes)
                : new(RequestBodyStatus.Incomplete, $"The body could not be read: {error.Message}", statusCode: error.StatusCode);
        }
        catch (Exception error) when (error is IOException or OperationCanceledException && request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            // The connection is gone: the answer has no reader, but it is still counted and logged as the client's doing.
            ArrayPool<byte>.Shared.Return(buffer);
            return new(RequestBodyStatus.Incomplete, "The client closed the connection before the body was read.",
                statusCode: StatusCodes.Status499ClientClosedRequest);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        if (length > maxBytes)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return TooLarge(maxBytes);
        }

        return new(RequestBodyStatus.Read, null, buffer, length);
    }

    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    private static RequestBody TooLarge(int maxBytes) =>
        new(RequestBodyStatus.TooLarge, $"The body is larger than {maxBytes} bytes (after gzip inflation, if any).");

    /// <summary>application/json, or text/plain as <c>navigator.sendBeacon</c> sends it; UTF-8 when a charset is given.</summary>
    private static bool IsSupportedContentType(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return false;
        }

        var json = media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
        var text = media.MediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase);
        // RFC 9110 allows the parameter quoted (charset="utf-8"); the parser keeps the quotes.
        var charset = HeaderUtilities.RemoveQuotes(media.Charset);
        return (json || text) && (!charset.HasValue
            || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase));
    }
}
