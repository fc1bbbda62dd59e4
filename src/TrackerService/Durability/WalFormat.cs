using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;

namespace TrackerService.Durability;

/// <summary>
/// The log's bytes on disk. A segment (<c>0000000001.wal</c>, names sort as numbers) starts with an 8-byte header
/// (magic <c>TWAL</c>, version 1) followed by frames: <c>[u32 length LE][u32 CRC-32 LE][payload]</c>, the CRC over the
/// length's 4 bytes and the payload (so a zero-filled tail is not a valid empty record). The checkpoint file holds the
/// first unconfirmed position: <c>[magic TWCK][i64 segment][i64 offset][u32 CRC-32 of the 20 bytes before]</c>.
/// </summary>
internal static class WalFormat
{
    public const int HeaderBytes = 8;
    public const int FrameHeaderBytes = 8;
    public const int CheckpointBytes = 24;
    public const string Extension = ".wal";
    public const string CheckpointName = "checkpoint";
    public const string CorruptFolder = "corrupt";

    /// <summary>No record is this big: a length past it is damage, not a frame the log wrote.</summary>
    public const int MaxPayloadBytes = 256 << 20;

    private const uint SegmentMagic = 0x4C415754; // "TWAL"
    private const uint CheckpointMagic = 0x4B435754; // "TWCK"
    private const uint Version = 1;

    public static string SegmentName(long number) => number.ToString("D10", CultureInfo.InvariantCulture) + Extension;

    /// <returns>The segment's number, or null for a file that is not a segment.</returns>
    public static long? SegmentNumber(string fileName) =>
        fileName.Length == 10 + Extension.Length && fileName.EndsWith(Extension, StringComparison.Ordinal)
        && long.TryParse(fileName.AsSpan(0, 10), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : null;

    public static void WriteHeader(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, SegmentMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Version);
    }

    public static bool IsHeader(ReadOnlySpan<byte> header) =>
        header.Length >= HeaderBytes
        && BinaryPrimitives.ReadUInt32LittleEndian(header) == SegmentMagic
        && BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) == Version;

    public static int FrameBytes(int payloadBytes) => FrameHeaderBytes + payloadBytes;

    /// <summary>Writes one frame into <paramref name="destination"/> (at least <see cref="FrameBytes"/> long).</summary>
    public static void WriteFrame(Span<byte> destination, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Checksum(destination[..4], payload));
        payload.CopyTo(destination[FrameHeaderBytes..]);
    }

    /// <summary>What is at <paramref name="offset"/> of a segment's bytes.</summary>
    public static FrameRead ReadFrame(ReadOnlySpan<byte> segment, int offset, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        var rest = segment[offset..];
        if (rest.Length < FrameHeaderBytes)
        {
            return FrameRead.CutShort;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(rest);
        if (length > MaxPayloadBytes)
        {
            return FrameRead.Corrupt;
        }

        if (rest.Length - FrameHeaderBytes < length)
        {
            return FrameRead.CutShort;
        }

        payload = rest.Slice(FrameHeaderBytes, (int)length);
        return BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]) == Checksum(rest[..4], payload) ? FrameRead.Valid : FrameRead.Corrupt;
    }

    public static byte[] Checkpoint(WalPosition position)
    {
        var bytes = new byte[CheckpointBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, CheckpointMagic);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(4), position.Segment);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(12), position.Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), Crc32.HashToUInt32(bytes.AsSpan(0, 20)));
        return bytes;
    }

    /// <returns>The position the checkpoint holds, or null when the bytes are not a checkpoint.</returns>
    public static WalPosition? ReadCheckpoint(ReadOnlySpan<byte> bytes) =>
        bytes.Length == CheckpointBytes
        && BinaryPrimitives.ReadUInt32LittleEndian(bytes) == CheckpointMagic
        && BinaryPrimitives.ReadUInt32LittleEndian(bytes[20..]) == Crc32.HashToUInt32(bytes[..20])
            ? new WalPosition(BinaryPrimitives.ReadInt64LittleEndian(bytes[4..]), BinaryPrimitives.ReadInt64LittleEndian(bytes[12..]))
            : null;

    [ThreadStatic]
    private static Crc32? t_crc;

    private static uint Checksum(ReadOnlySpan<byte> length, ReadOnlySpan<byte> payload)
    {
        var crc = t_crc ??= new Crc32();
        crc.Reset();
        crc.Append(length);
        crc.Append(payload);
        return crc.GetCurrentHashAsUInt32();
    }
}

/// <summary>What a frame read found.</summary>
internal enum FrameRead
{
    /// <summary>A whole frame whose checksum holds.</summary>
    Valid,

    /// <summary>Fewer bytes than the frame's header or length asks for: a torn tail, if at the end of the last segment.</summary>
    CutShort,

    /// <summary>A whole frame whose checksum fails, or a length no frame has.</summary>
    Corrupt,
}
