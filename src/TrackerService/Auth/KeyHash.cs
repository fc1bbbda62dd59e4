using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace TrackerService.Auth;

/// <summary>
/// The SHA-256 of a write key, as four words: what keys are configured and looked up by. A lookup compares hashes,
/// never the secret, so how long it takes says nothing about how much of a guessed key was right; and a hash needs
/// no allocation (a string of its hex would be one per request).
/// </summary>
internal readonly record struct KeyHash(ulong A, ulong B, ulong C, ulong D)
{
    /// <summary>Keys up to this many UTF-8 bytes are hashed from the stack; longer ones from a pooled buffer.</summary>
    private const int StackBytes = 256;

    public static KeyHash Of(ReadOnlySpan<byte> key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(key, hash);
        return FromBytes(hash);
    }

    public static KeyHash Of(ReadOnlySpan<char> key)
    {
        var length = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = null;
        var buffer = length <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(key, buffer);
            return Of(buffer[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                CryptographicOperations.ZeroMemory(rented); // the pool would keep the secret otherwise
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>A hash written as 64 hex digits (either case), as <c>KeySha256</c> holds it.</summary>
    public static bool TryParseHex(string hex, out KeyHash hash)
    {
        Span<byte> bytes = stackalloc byte[SHA256.HashSizeInBytes];
        if (hex.Length != 2 * SHA256.HashSizeInBytes || Convert.FromHexString(hex, bytes, out _, out var written) != OperationStatus.Done
            || written != bytes.Length)
        {
            hash = default;
            return false;
        }

        hash = FromBytes(bytes);
        return true;
    }

    private static KeyHash FromBytes(ReadOnlySpan<byte> hash) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(hash),
        BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]),
        BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]));
}
