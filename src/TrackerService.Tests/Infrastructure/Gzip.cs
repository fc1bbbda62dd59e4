using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Gzip-compressed request bodies.</summary>
internal static class Gzip
{
    /// <summary><paramref name="data"/> as one gzip member, compressed as small as it gets.</summary>
    public static byte[] Compress(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    /// <summary>A request body of <paramref name="json"/> (UTF-8), gzip-compressed: <c>application/json</c>, <c>Content-Encoding: gzip</c>.</summary>
    public static HttpContent Content(string json) => Content(Encoding.UTF8.GetBytes(json));

    /// <summary>
    /// A request body of <paramref name="json"/> gzip-compressed: <c>application/json</c>, with
    /// <paramref name="contentEncoding"/> as its <c>Content-Encoding</c> (<c>gzip</c>, or another spelling of it).
    /// </summary>
    public static HttpContent Content(byte[] json, string contentEncoding = "gzip")
    {
        var content = new ByteArrayContent(Compress(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add(contentEncoding);
        return content;
    }
}
