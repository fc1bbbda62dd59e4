using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.AspNetCore.RequestDecompression;

namespace TrackerService.Api;

/// <summary>
/// gzip for the request decompression middleware, strict about where the body ends. .NET's GZipStream inflates a
/// body cut anywhere in its last bytes (the 8-byte trailer, or the end of the deflate data) without a word, and
/// ignores bytes after the trailer: a client's truncated or padded upload would be taken as whole.
/// </summary>
internal sealed class StrictGzipProvider : IDecompressionProvider
{
    public Stream GetDecompressionStream(Stream stream) => new StrictGzipStream(stream);
}

/// <summary>
/// Inflates with GZipStream and, at the end, checks that the body's last 4 bytes are the trailer's ISIZE of what was
/// inflated. zlib checks a trailer's CRC and ISIZE whenever it reads one; what it does not say is whether it read
/// one, and whether it was the body's end. A body cut short ends in deflate data or a partial trailer, a padded one
/// in the padding, a second member in that member's own size: none ends in the inflated length but by a deliberate
/// construction. One member is what every gzip writer (and the browsers' CompressionStream) sends per body;
/// RFC 1952 allows several, but GZipStream does not say where one ends, so several are refused (docs/http-api.md).
/// </summary>
internal sealed class StrictGzipStream(Stream compressed) : Stream
{
    /// <summary>Why a body is refused for how it ends (the message of the <see cref="InvalidDataException"/>).</summary>
    public const string EndRefused =
        "it must be one whole gzip member, and it ends before its trailer, has bytes after it, or holds several members";

    private readonly Tail _tail = new(compressed);
    private GZipStream? _gzip;
    private long _inflated;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    private GZipStream Gzip => _gzip ??= new GZipStream(_tail, CompressionMode.Decompress);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => Counted(Gzip.Read(buffer), buffer.IsEmpty);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Counted(await Gzip.ReadAsync(buffer, cancellationToken).ConfigureAwait(false), buffer.IsEmpty);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The request's own body stays open, as with the framework's gzip provider: the server owns it.
            _gzip?.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Counted(int read, bool askedForNothing)
    {
        _inflated += read;
        if (read == 0 && !askedForNothing && !_tail.EndsWithSize((uint)_inflated))
        {
            throw new InvalidDataException(EndRefused);
        }

        return read;
    }

    /// <summary>The compressed body, passed through, remembering its last 4 bytes.</summary>
    private sealed class Tail(Stream inner) : Stream
    {
        private readonly byte[] _last = new byte[4];
        private long _total;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>Whether the body, a gzip header (10 bytes) and trailer (8) at least, ends in <paramref name="size"/> (ISIZE, little-endian).</summary>
        public bool EndsWithSize(uint size) => _total >= 18 && BinaryPrimitives.ReadUInt32LittleEndian(_last) == size;

        public override int Read(byte[] buffer, int offset, int count) => Seen(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            return Seen(buffer.Span[..read]);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Seen(ReadOnlySpan<byte> read)
        {
            if (read.Length >= _last.Length)
            {
                read[^_last.Length..].CopyTo(_last);
            }
            else if (read.Length > 0)
            {
                // Shift the kept bytes left and append the new ones.
                _last.AsSpan(read.Length).CopyTo(_last);
                read.CopyTo(_last.AsSpan(_last.Length - read.Length));
            }

            _total += read.Length;
            return read.Length;
        }
    }
}
