using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary>
/// gzip bodies through the service's real pipeline: ASP.NET Core's request decompression (gzip only) inflates them
/// and caps the inflated size at the endpoint's limit, which the API answers as a 413 problem.
/// </summary>
public sealed class RequestDecompressionTests : IDisposable
{
    private const int Limit = 4096;

    private readonly TrackerApplication _app = new(new()
    {
        ["Tracker:Api:MaxBodyBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Tracker:Api:MaxEventBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    public void Dispose() => _app.Dispose();

    [Theory]
    [InlineData("gzip")]
    [InlineData("GZIP")]
    public async Task InflatesAGzipBody(string encoding)
    {
        // Given a batch whose JSON is several times its compressed size
        using var client = _app.CreateClient();
        var json = JsonSerializer.Serialize(Enumerable.Range(0, 40).Select(i => new { @event = "e", userId = $"u{i}", messageId = $"gz-{i}" }));

        // When
        using var response = await client.PostAsync("/events", Gzip.Content(Encoding.UTF8.GetBytes(json), encoding));

        // Then
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await _app.WaitForStoredAsync(40);
    }

    [Fact]
    public async Task TakesAGzipBodyThatInflatesToExactlyTheLimit()
    {
        using var client = _app.CreateClient();

        using var response = await client.PostAsync("/events", Gzip.Content(EventOfExactly(Limit)));

        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        await _app.WaitForStoredAsync(1);
    }

    [Fact]
    public async Task RefusesAGzipBodyThatInflatesOneByteBeyondTheLimit()
    {
        using var client = _app.CreateClient();

        using var response = await client.PostAsync("/events", Gzip.Content(EventOfExactly(Limit + 1)));

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, $"larger than {Limit} bytes");
    }

    [Fact]
    public async Task RefusesATinyGzipBodyThatInflatesFarBeyondTheLimit()
    {
        // Given 1 MiB of JSON that compresses to well under the limit
        using var client = _app.CreateClient();
        var compressed = Gzip.Compress(EventOfExactly(1024 * 1024));
        Assert.True(compressed.Length < Limit, $"the compressed body ({compressed.Length} bytes) must itself be under the limit");

        using var response = await client.PostAsync("/events", Encoded(compressed, "gzip"));

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, $"larger than {Limit} bytes");
    }

    [Theory]
    [InlineData(new byte[] { 0x7b, 0x7d })]
    [InlineData(new byte[] { 0x1f, 0x8b, 0x08, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff })]
    public async Task RefusesABodyThatIsNotValidGzip(byte[] notGzip)
    {
        using var client = _app.CreateClient();

        using var response = await client.PostAsync("/events", Encoded(notGzip, "gzip"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "not valid gzip");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(9)]
    public async Task RefusesAGzipBodyCutShortOfItsTrailer(int missing)
    {
        // Given a gzip body missing its last bytes: part or all of the 8-byte trailer, or the end of the deflate data too
        using var client = _app.CreateClient();
        var whole = Gzip.Compress(EventOfExactly(300));

        using var response = await client.PostAsync("/events", Encoded(whole[..^missing], "gzip"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "not valid gzip: it must be one whole gzip member");
        Assert.Equal(0, await _app.CountStoredAsync());
    }

    [Theory]
    [InlineData(new byte[] { 0 })]
    [InlineData(new byte[] { 0x78, 0x79, 0x7a })]
    [InlineData(new byte[] { 0x1f, 0x8b })]
    public async Task RefusesBytesAfterTheGzipTrailer(byte[] after)
    {
        using var client = _app.CreateClient();

        using var response = await client.PostAsync("/events", Encoded([.. Gzip.Compress(EventOfExactly(300)), .. after], "gzip"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "not valid gzip: it must be one whole gzip member");
    }

    [Fact]
    public async Task RefusesSeveralConcatenatedGzipMembers()
    {
        // RFC 1952 allows them, but GZipStream does not say where a member ends, so the service takes one (docs/http-api.md)
        using var client = _app.CreateClient();
        var json = Encoding.UTF8.GetBytes("""[{"event":"e","userId":"u"},{"event":"f","userId":"u"}]""");

        using var response = await client.PostAsync("/events", Encoded([.. Gzip.Compress(json[..20]), .. Gzip.Compress(json[20..])], "gzip"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "not valid gzip");
    }

    [Fact]
    public async Task RefusesAGzipBodyWhoseTrailerDoesNotMatch()
    {
        using var client = _app.CreateClient();
        var body = Gzip.Compress(EventOfExactly(300));
        body[^8] ^= 0xff; // the CRC-32

        using var response = await client.PostAsync("/events", Encoded(body, "gzip"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "not valid gzip");
    }

    [Theory]
    [InlineData("br")]
    [InlineData("deflate")]
    public async Task LeavesOtherEncodingsToBeRefusedAsUnsupported(string encoding)
    {
        // deflate and br are among the middleware's defaults: the service takes gzip only
        using var client = _app.CreateClient();

        using var response = await client.PostAsync("/events", Encoded(Gzip.Compress(EventOfExactly(100)), encoding));

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, encoding);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        Assert.Equal(status, response.StatusCode);
        var problem = await Problem.ReadAsync(response);
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    /// <summary>One valid event whose JSON is exactly <paramref name="length"/> bytes (padded in a property).</summary>
    private static byte[] EventOfExactly(int length)
    {
        const string head = "{\"event\":\"e\",\"userId\":\"u\",\"properties\":{\"pad\":\"";
        const string tail = "\"}}";
        return Encoding.UTF8.GetBytes(head + new string('x', length - head.Length - tail.Length) + tail);
    }

    /// <summary>A body sent as it is, labelled with <paramref name="encoding"/>.</summary>
    private static ByteArrayContent Encoded(byte[] body, string encoding)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add(encoding);
        return content;
    }
}
