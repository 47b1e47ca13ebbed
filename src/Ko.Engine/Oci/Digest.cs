using System.Security.Cryptography;

namespace Ko.Engine.Oci;

/// <summary>A content digest such as <c>sha256:4f3c…</c>.</summary>
/// <param name="Algorithm">The algorithm, <c>sha256</c> for everything the engine writes.</param>
/// <param name="Hex">The lower-case hex encoding of the hash.</param>
public readonly record struct Digest(string Algorithm, string Hex)
{
    /// <summary>Parses <c>algorithm:hex</c>; throws <see cref="FormatException"/> when malformed.</summary>
    /// <param name="value">The text to parse.</param>
    public static Digest Parse(string value)
    {
        if (!TryParse(value, out var digest))
        {
            throw new FormatException($"'{value}' is not a digest of the form sha256:<64 hex characters>.");
        }

        return digest;
    }

    /// <summary>Parses <c>algorithm:hex</c>.</summary>
    /// <param name="value">The text to parse.</param>
    /// <param name="digest">The digest, when the text is well formed.</param>
    public static bool TryParse(string? value, out Digest digest)
    {
        digest = default;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        var algorithm = value[..colon];
        var hex = value[(colon + 1)..];
        if (!IsAlgorithm(algorithm))
        {
            return false;
        }

        if (algorithm == "sha256" && (hex.Length != 64 || !hex.All(IsLowerHex)))
        {
            return false;
        }

        if (hex.Length == 0 || !hex.All(c => char.IsAsciiLetterOrDigit(c) || c is '=' or '_' or '-'))
        {
            return false;
        }

        digest = new Digest(algorithm, hex);
        return true;
    }

    /// <summary>The SHA-256 digest of some bytes.</summary>
    /// <param name="bytes">The bytes to hash.</param>
    public static Digest Sha256(ReadOnlySpan<byte> bytes) => FromSha256Hash(Sha256Hash(bytes));

    /// <summary>Below this size SHA-256 runs in managed code (see <see cref="Sha256Hash"/>).</summary>
    internal const int ManagedHashLimit = 1024 * 1024;

    /// <summary>
    /// SHA-256 of some bytes. Small inputs (cache keys, configs, manifests) are hashed in managed code (BouncyCastle):
    /// .NET's SHA256 loads OpenSSL on first use, about 15 ms of a no-op rebuild that otherwise needs no OpenSSL at all.
    /// Larger inputs go to .NET's SHA256, which is faster per byte.
    /// </summary>
    internal static byte[] Sha256Hash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= ManagedHashLimit)
        {
            return SHA256.HashData(bytes);
        }

        var digest = new Org.BouncyCastle.Crypto.Digests.Sha256Digest();
        digest.BlockUpdate(bytes);
        var hash = new byte[32];
        digest.DoFinal(hash);
        return hash;
    }

    /// <summary>The digest for a finished SHA-256 hash.</summary>
    /// <param name="hash">The 32 hash bytes.</param>
    public static Digest FromSha256Hash(ReadOnlySpan<byte> hash) => new("sha256", Convert.ToHexStringLower(hash));

    /// <inheritdoc />
    public override string ToString() => $"{Algorithm}:{Hex}";

    // The OCI grammar: algorithm-component ([+._-] algorithm-component)*, components of [a-z0-9]. It also keeps
    // an algorithm from ever being a path such as "../x" when it names a blob folder.
    private static bool IsAlgorithm(string algorithm)
    {
        var previousWasSeparator = true;
        foreach (var c in algorithm)
        {
            if (c is (>= 'a' and <= 'z') or (>= '0' and <= '9'))
            {
                previousWasSeparator = false;
            }
            else if (c is '+' or '.' or '_' or '-' && !previousWasSeparator)
            {
                previousWasSeparator = true;
            }
            else
            {
                return false;
            }
        }

        return !previousWasSeparator;
    }

    private static bool IsLowerHex(char c) => c is (>= '0' and <= '9') or (>= 'a' and <= 'f');
}
