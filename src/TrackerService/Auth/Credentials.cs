using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Primitives;

namespace TrackerService.Auth;

/// <summary>What a request's <c>Authorization</c> header holds.</summary>
internal enum CredentialStatus
{
    /// <summary>No <c>Authorization</c> header.</summary>
    None,

    /// <summary>A Basic or Bearer credential with a key; its hash is given.</summary>
    Found,

    /// <summary>A Basic or Bearer credential that holds no key, or is not valid (bad base64, several headers).</summary>
    Malformed,

    /// <summary>Another scheme: not ours (a body's <c>writeKey</c> may still say who the caller is).</summary>
    OtherScheme,
}

/// <summary>
/// Reads the write key from <c>Authorization: Basic base64(key + ":")</c> (the key as the user name, the password
/// ignored, as Segment's SDKs send it) or <c>Authorization: Bearer key</c>, straight into its hash: the key is
/// never a string.
/// </summary>
internal static class Credentials
{
    private const int StackBytes = 256;

    public static bool HasKey(StringValues authorization) =>
        authorization.Count == 1 && (Scheme(authorization[0], "Basic") || Scheme(authorization[0], "Bearer"));

    public static CredentialStatus Read(StringValues authorization, out KeyHash hash)
    {
        hash = default;
        if (authorization.Count == 0)
        {
            return CredentialStatus.None;
        }

        var value = authorization.Count == 1 ? authorization[0] ?? "" : null;
        if (value is null)
        {
            return CredentialStatus.Malformed; // several Authorization headers: which one would be meant?
        }

        if (Scheme(value, "Bearer"))
        {
            var token = value.AsSpan("Bearer".Length).Trim();
            if (token.IsEmpty)
            {
                return CredentialStatus.Malformed;
            }

            hash = KeyHash.Of(token);
            return CredentialStatus.Found;
        }

        return Scheme(value, "Basic") ? ReadBasic(value.AsSpan("Basic".Length).Trim(), out hash) : CredentialStatus.OtherScheme;
    }

    private static CredentialStatus ReadBasic(ReadOnlySpan<char> base64, out KeyHash hash)
    {
        hash = default;
        var length = (base64.Length / 4 * 3) + 3;
        byte[]? rented = null;
        var buffer = length <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            if (base64.IsEmpty || !Convert.TryFromBase64Chars(base64, buffer, out var written))
            {
                return CredentialStatus.Malformed;
            }

            var decoded = buffer[..written];
            var colon = decoded.IndexOf((byte)':');
            var user = colon < 0 ? decoded : decoded[..colon];
            if (user.IsEmpty)
            {
                return CredentialStatus.Malformed;
            }

            hash = KeyHash.Of(user);
            CryptographicOperations.ZeroMemory(decoded);
            return CredentialStatus.Found;
        }
        finally
        {
            if (rented is not null)
            {
                CryptographicOperations.ZeroMemory(rented);
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Whether <paramref name="value"/> starts with the scheme (any case) followed by a space or its end.</summary>
    private static bool Scheme(string? value, string scheme) =>
        value is not null && value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
        && (value.Length == scheme.Length || value[scheme.Length] == ' ');
}
