using System.Text;
using Microsoft.AspNetCore.Http;
using TrackerService.Api;

namespace TrackerService.Tests.Api;

/// <summary>Reading the body as the endpoint gets it; gzip inflation is the framework's (<see cref="RequestDecompressionTests"/>).</summary>
public sealed class RequestBodyTests
{
    private const int Limit = 4096;

    private static readonly byte[] Json = Encoding.UTF8.GetBytes("""{"userId":"u1","event":"e"}""");

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON")]
    [InlineData("text/plain")]
    [InlineData("text/plain;charset=UTF-8")]
    [InlineData("text/plain; charset=utf8")]
    [InlineData("application/json; charset=\"utf-8\"")]
    [InlineData("text/plain;charset=\"UTF-8\"")]
    public async Task ReadsBodyOfSupportedContentType(string contentType)
    {
        // Given
        var request = Request(Json, contentType);

        // When
        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);

        // Then
        Assert.Equal(RequestBodyStatus.Read, body.Status);
        Assert.Equal(Json, body.Json.ToArray());
        Assert.Null(body.Detail);
    }

    [Theory]
    [InlineData("application/xml")]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("text/plain;charset=latin1")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData("application/json; charset=\"iso-8859-1\"")]
    [InlineData("application/json; charset=\"utf-8")]
    [InlineData("text/html")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task RefusesUnsupportedContentType(string? contentType)
    {
        // Given
        var request = Request(Json, contentType);

        // When
        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);

        // Then
        Assert.Equal(RequestBodyStatus.UnsupportedMediaType, body.Status);
        Assert.Contains("Content-Type", body.Detail, StringComparison.Ordinal);
        Assert.Equal(0, body.Length);
    }

    [Theory]
    [InlineData("br")]
    [InlineData("deflate")]
    [InlineData("zstd")]
    public async Task RefusesUnsupportedContentEncoding(string encoding)
    {
        // Given
        var request = Request(Json, contentEncoding: encoding);

        // When
        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);

        // Then
        Assert.Equal(RequestBodyStatus.UnsupportedMediaType, body.Status);
        Assert.Contains(encoding, body.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadsIdentityEncodedBodyAsIs()
    {
        var request = Request(Json, contentEncoding: "identity");

        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);

        Assert.Equal(RequestBodyStatus.Read, body.Status);
        Assert.Equal(Json, body.Json.ToArray());
    }

    [Fact]
    public async Task RefusesBodyWhoseContentLengthIsOverTheLimitWithoutReadingIt()
    {
        // Given a request that declares one byte more than the limit
        var request = Request(Bytes(Limit + 1), contentLength: Limit + 1);

        // When
        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);

        // Then
        Assert.Equal(RequestBodyStatus.TooLarge, body.Status);
        Assert.Equal(0, request.Body.Position);
    }

    [Fact]
    public async Task RefusesBodyOverTheLimitWithoutContentLength()
    {
        // Given a chunked request (no Content-Length) one byte over the limit
        var request = Request(Bytes(Limit + 1), contentLength: null);

        // When
        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);

        // Then
        Assert.Equal(RequestBodyStatus.TooLarge, body.Status);
        Assert.Equal(0, body.Length);
    }

    [Fact]
    public async Task RefusesBodyLongerThanItsContentLengthClaims()
    {
        // Given a request that understates its length
        var request = Request(Bytes(Limit * 2), contentLength: 10);

        // When
        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);

        // Then
        Assert.Equal(RequestBodyStatus.TooLarge, body.Status);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadsBodyOfExactlyTheLimit(bool withContentLength)
    {
        // Given
        var json = Bytes(Limit);
        var request = Request(json, contentLength: withContentLength ? json.Length : null);

        // When
        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);

        // Then
        Assert.Equal(RequestBodyStatus.Read, body.Status);
        Assert.Equal(Limit, body.Length);
        Assert.Equal(json, body.Json.ToArray());
    }

    [Fact]
    public async Task ReadsBodyFarLargerThanTheFirstBufferWithoutContentLength()
    {
        // Given a 300 KB body with no Content-Length, so the buffer starts small and must grow
        var json = Bytes(300_000);
        var request = Request(json, contentLength: null);

        // When
        using var body = await RequestBody.ReadAsync(request, 512 * 1024, CancellationToken.None);

        // Then
        Assert.Equal(RequestBodyStatus.Read, body.Status);
        Assert.Equal(json, body.Json.ToArray());
    }

    [Fact]
    public async Task ReadsBodyDeliveredInSmallPieces()
    {
        // Given a body that arrives a few bytes per read, as from a slow network
        var json = Bytes(Limit);
        var request = Request(json, contentLength: null);
        request.Body = new TricklingStream(json, 7);

        // When
        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);

        // Then
        Assert.Equal(RequestBodyStatus.Read, body.Status);
        Assert.Equal(json, body.Json.ToArray());
    }

    [Fact]
    public async Task ReservesNoMoreThanTheFirstBufferForABodyThatDeclaresMuchButSendsOneByte()
    {
        // Given a request declaring the largest body allowed whose client sends one byte (a header flood)
        const int limit = 512 * 1024;
        var request = Request([], contentLength: limit);
        var body = new RecordingStream([(byte)'{']);
        request.Body = body;

        // When
        using var read = await RequestBody.ReadAsync(request, limit, CancellationToken.None);

        // Then no read asked for room the client had not begun to fill: the declared length reserved nothing
        Assert.Equal(1, read.Length);
        Assert.All(body.Reads, r => Assert.True(r.Window <= RequestBody.InitialBytes,
            $"a read after {r.Received} bytes offered {r.Window} bytes of buffer; at most {RequestBody.InitialBytes} were expected"));
    }

    [Fact]
    public async Task GrowsTheBufferWithTheBytesThatArriveNotBeyondTwiceThem()
    {
        // Given a large body arriving in pieces, with an honest Content-Length
        const int limit = 512 * 1024;
        var json = Bytes(limit);
        var request = Request(json, contentLength: json.Length);
        var body = new RecordingStream(json, piece: 3000);
        request.Body = body;

        // When
        using var read = await RequestBody.ReadAsync(request, limit, CancellationToken.None);

        // Then it is read whole, and the buffer never offered more than twice what had arrived (or the first buffer)
        Assert.Equal(json, read.Json.ToArray());
        Assert.All(body.Reads, r => Assert.True(r.Received + r.Window <= Math.Max(RequestBody.InitialBytes, 2 * r.Received) + 1,
            $"a read after {r.Received} bytes offered {r.Window} bytes of buffer"));
    }

    [Fact]
    public async Task ReadsEmptyBodyAsZeroBytes()
    {
        var request = Request([], contentLength: 0);

        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);

        Assert.Equal(RequestBodyStatus.Read, body.Status);
        Assert.Equal(0, body.Length);
        Assert.True(body.Json.IsEmpty);
    }

    [Theory]
    [InlineData(StatusCodes.Status400BadRequest)]
    [InlineData(StatusCodes.Status408RequestTimeout)]
    public async Task ReportsABodyTheServerCouldNotReadAsIncomplete(int status)
    {
        // Given a body whose read fails as Kestrel fails it: cut short (400) or too slow (408)
        var request = Request(Json);
        request.Body = new FailingStream(new BadHttpRequestException("Unexpected end of request content.", status));

        // When
        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);

        // Then it is the client's fault, with the server's status, not an exception
        Assert.Equal(RequestBodyStatus.Incomplete, body.Status);
        Assert.Equal(status, body.StatusCode);
        Assert.Contains("Unexpected end of request content", body.Detail, StringComparison.Ordinal);
        Assert.Equal(0, body.Length);
    }

    [Fact]
    public async Task ReportsTheServersOwnSizeLimitAsTooLarge()
    {
        var request = Request(Json);
        request.Body = new FailingStream(new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge));

        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);

        Assert.Equal(RequestBodyStatus.TooLarge, body.Status);
    }

    [Fact]
    public async Task ReportsAConnectionResetAfterTheClientAbortedAs499()
    {
        // Given a client that went away: the request is aborted and the read fails with an I/O error
        var request = Request(Json);
        using var aborted = new CancellationTokenSource();
        await aborted.CancelAsync();
        request.HttpContext.RequestAborted = aborted.Token;
        request.Body = new FailingStream(new IOException("The client reset the request stream."));

        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);

        Assert.Equal(RequestBodyStatus.Incomplete, body.Status);
        Assert.Equal(StatusCodes.Status499ClientClosedRequest, body.StatusCode);
    }

    [Fact]
    public async Task LetsAnIOErrorOfAConnectionStillOpenPropagate()
    {
        // An I/O failure the client did not cause is the server's problem: it must not be dressed up as a 4xx
        var request = Request(Json);
        request.Body = new FailingStream(new IOException("disk on fire"));

        await Assert.ThrowsAsync<IOException>(() => RequestBody.ReadAsync(request, Limit, CancellationToken.None));
    }

    private static HttpRequest Request(
        byte[] body, string? contentType = "application/json", string? contentEncoding = null, long? contentLength = -1)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Post;
        context.Request.ContentType = contentType;
        context.Request.ContentLength = contentLength == -1 ? body.Length : contentLength;
        if (contentEncoding is not null)
        {
            context.Request.Headers.ContentEncoding = contentEncoding;
        }

        context.Request.Body = new MemoryStream(body);
        return context.Request;
    }

    /// <summary>JSON-ish bytes (a string of 'x' in quotes) of exactly <paramref name="length"/> bytes.</summary>
    private static byte[] Bytes(int length)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill((byte)'x');
        bytes[0] = (byte)'"';
        bytes[^1] = (byte)'"';
        return bytes;
    }

    /// <summary>A read-only stream that returns at most a few bytes per read.</summary>
    private sealed class TricklingStream(byte[] data, int piece) : MemoryStream(data, writable: false)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, piece));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, piece)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, piece)], cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, piece), cancellationToken);
    }

    /// <summary>A read-only stream that records, for each read, how much had arrived and how much room the read offered.</summary>
    private sealed class RecordingStream(byte[] data, int piece = int.MaxValue) : MemoryStream(data, writable: false)
    {
        public List<(long Received, int Window)> Reads { get; } = [];

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Reads.Add((Position, buffer.Length));
            return base.ReadAsync(buffer[..Math.Min(buffer.Length, piece)], cancellationToken);
        }
    }

    private sealed class FailingStream(Exception error) : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException<int>(error);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromException<int>(error);
    }
}
