using System.Buffers;

namespace TrackerService.Api;

internal sealed partial class RequestBody
{
    /// <summary>
    /// Whether the body starts as gzip does (RFC 1952: 1F 8B, then deflate, 08). A JSON text can't: it starts with
    /// whitespace, a bracket, a quote, a digit or a letter.
    /// </summary>
    private static bool IsGzip(ReadOnlySpan<byte> body) => body is [0x1F, 0x8B, 0x08, ..];

    /// <summary>
    /// Inflates a gzip body that arrived without its Content-Encoding (a client that compresses and doesn't say so),
    /// as strictly as a labelled one (<see cref="StrictGzipStream"/>) and under the same size limit. Takes back the
    /// compressed buffer.
    /// </summary>
    private static RequestBody InflateUnlabelled(byte[] compressed, int length, int maxBytes)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(Math.Max(length * 4, InitialBytes), maxBytes + 1));
        var inflated = 0;
        try
        {
            using var gzip = new StrictGzipStream(new MemoryStream(compressed, 0, length, writable: false));
            while (true)
            {
                if (inflated == buffer.Length)
                {
                    if (inflated > maxBytes)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return TooLarge(maxBytes);
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, maxBytes + 1L));
                    buffer.AsSpan(0, inflated).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = gzip.Read(buffer, inflated, Math.Min(buffer.Length, maxBytes + 1) - inflated);
                if (read == 0)
                {
                    break;
                }

                inflated += read;
            }
        }
        catch (InvalidDataException error)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return new(RequestBodyStatus.BadEncoding, error.Message == StrictGzipStream.EndRefused ? $"The body is not valid gzip: {error.Message}." : "The body is not valid gzip.");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
        }

        if (inflated > maxBytes)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return TooLarge(maxBytes);
        }

        return new(RequestBodyStatus.Read, null, buffer, inflated);
    }
}
