using System.Security.Cryptography;

namespace Ko.Engine.Signing;

/// <summary>An ECDSA P-256 public key (PEM <c>PUBLIC KEY</c>, PKIX) that checks SHA-256 ASN.1 DER signatures, as cosign's <c>--key</c>.</summary>
internal sealed class VerificationKey : IDisposable
{
    private const string P256Oid = "1.2.840.10045.3.1.7";
    private readonly ECDsa _key;

    internal VerificationKey(ECDsa key) => _key = key;

    /// <summary>The key as a PEM <c>PUBLIC KEY</c> block, as cosign writes <c>cosign.pub</c>.</summary>
    public string ToPem() => new string(PemEncoding.Write("PUBLIC KEY", _key.ExportSubjectPublicKeyInfo())) + "\n";

    /// <summary>Reads a public key file; any failure is <see cref="KoErrorCodes.PublicKeyUnreadable"/> naming the file.</summary>
    public static async Task<VerificationKey> LoadAsync(string path, CancellationToken cancellationToken)
    {
        var bytes = await SigningKey.ReadKeyFileAsync(path, KoErrorCodes.PublicKeyUnreadable, "public key", cancellationToken).ConfigureAwait(false);
        return FromPem(bytes, path);
    }

    /// <summary>Parses a PEM public key; <paramref name="where"/> names it in errors.</summary>
    internal static VerificationKey FromPem(byte[] bytes, string where)
    {
        var (label, der) = SigningKey.FirstPemBlock(bytes, where, KoErrorCodes.PublicKeyUnreadable, "a PEM public key");
        if (label != "PUBLIC KEY")
        {
            var hint = label.Contains("PRIVATE", StringComparison.Ordinal) ? " (it is a private key: give the .pub file)" : string.Empty;
            throw new KoException(KoErrorCodes.PublicKeyUnreadable, $"{where} holds a '{SigningKey.Printable(label)}' PEM block, not a PUBLIC KEY{hint}.");
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(der, out var read);
            if (read != der.Length)
            {
                throw new CryptographicException("trailing bytes");
            }
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw new KoException(KoErrorCodes.PublicKeyUnreadable, $"{where} is not an ECDSA public key ko can use (an RSA or Ed25519 key, or damaged bytes); ko verifies ECDSA P-256 signatures, as cosign's default.");
        }

        if (key.ExportParameters(false).Curve.Oid?.Value != P256Oid)
        {
            key.Dispose();
            throw new KoException(KoErrorCodes.PublicKeyUnreadable, $"{where} is an ECDSA key on another curve than P-256; ko verifies P-256 signatures, as cosign's default.");
        }

        return new VerificationKey(key);
    }

    /// <summary>True when <paramref name="signature"/> (ASN.1 DER) is this key's ECDSA/SHA-256 signature of <paramref name="data"/>; false for any malformed signature.</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        try
        {
            return _key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}
