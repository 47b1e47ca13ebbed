using System.Security.Cryptography;
using System.Text;

namespace Ko.Engine.Signing;

/// <summary>
/// An ECDSA P-256 private key that signs with SHA-256 (ASN.1 DER signatures, as cosign). Read from cosign's encrypted
/// format (<c>ENCRYPTED SIGSTORE PRIVATE KEY</c> or the older <c>ENCRYPTED COSIGN PRIVATE KEY</c>) or from a plain
/// PEM key (<c>PRIVATE KEY</c>, PKCS#8, as <c>openssl genpkey</c> writes; or <c>EC PRIVATE KEY</c>). The key never
/// appears in a message, a log line or <see cref="ToString"/>.
/// </summary>
internal sealed class SigningKey : IDisposable
{
    /// <summary>Key files are small; anything larger is not a key (and is not read into memory).</summary>
    internal const int MaxKeyFileBytes = 64 * 1024;

    internal const string SigstoreLabel = "ENCRYPTED SIGSTORE PRIVATE KEY";
    internal const string CosignLabel = "ENCRYPTED COSIGN PRIVATE KEY";
    private const string P256Oid = "1.2.840.10045.3.1.7";

    private readonly ECDsa _key;

    private SigningKey(ECDsa key)
    {
        _key = key;
        PublicKey = new VerificationKey(ECDsa.Create(key.ExportParameters(false)));
    }

    /// <summary>The public half.</summary>
    public VerificationKey PublicKey { get; }

    /// <summary>A new random P-256 key.</summary>
    public static SigningKey Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>
    /// Reads a key file. <paramref name="password"/> is asked only for an encrypted key. Every failure is a
    /// <see cref="KoException"/> naming the file: <see cref="KoErrorCodes.SigningKeyUnreadable"/> (missing, not a
    /// regular file, too large, not PEM, not ECDSA P-256, damaged) or <see cref="KoErrorCodes.SigningKeyPassword"/>.
    /// </summary>
    public static async Task<SigningKey> LoadAsync(string path, Func<CancellationToken, ValueTask<string?>> password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(password);
        var bytes = await ReadKeyFileAsync(path, KoErrorCodes.SigningKeyUnreadable, "signing key", cancellationToken).ConfigureAwait(false);
        try
        {
            return await FromPemAsync(bytes, path, password, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Parses PEM text (see <see cref="LoadAsync"/>); <paramref name="where"/> names it in errors.</summary>
    internal static async Task<SigningKey> FromPemAsync(byte[] bytes, string where, Func<CancellationToken, ValueTask<string?>> password, CancellationToken cancellationToken)
    {
        var (label, der) = FirstPemBlock(bytes, where, KoErrorCodes.SigningKeyUnreadable, "a PEM private key");
        try
        {
            switch (label)
            {
                case SigstoreLabel or CosignLabel:
                    var secret = await password(cancellationToken).ConfigureAwait(false)
                        ?? throw new KoException(KoErrorCodes.SigningKeyPassword, $"{where} is an encrypted signing key and no password was given: set KO_SIGN_PASSWORD or run on a terminal to be asked.");
                    byte[] pkcs8;
                    try
                    {
                        pkcs8 = EncryptedKeyEnvelope.Open(der, Encoding.UTF8.GetBytes(secret));
                    }
                    catch (CryptographicException)
                    {
                        throw new KoException(KoErrorCodes.SigningKeyPassword, $"cannot open the encrypted signing key {where}: the password is wrong (or the file was altered). Check KO_SIGN_PASSWORD.");
                    }
                    catch (FormatException ex)
                    {
                        throw new KoException(KoErrorCodes.SigningKeyUnreadable, $"{where} is not a sigstore encrypted key: {ex.Message}.");
                    }

                    try
                    {
                        return FromDer(pkcs8, pkcs8: true, where);
                    }
                    finally
                    {
                        CryptographicOperations.ZeroMemory(pkcs8);
                    }

                case "PRIVATE KEY":
                    return FromDer(der, pkcs8: true, where);
                case "EC PRIVATE KEY":
                    return FromDer(der, pkcs8: false, where);
                case "ENCRYPTED PRIVATE KEY":
                    throw new KoException(KoErrorCodes.SigningKeyUnreadable, $"{where} is a PKCS#8 key encrypted by openssl, which ko does not read; decrypt it (openssl pkcs8 -in KEY -out PLAIN) or make a key with 'dotnet ko generate-key'.");
                default:
                    throw new KoException(KoErrorCodes.SigningKeyUnreadable, $"{where} holds a '{Printable(label)}' PEM block, not a private key; give a key from 'dotnet ko generate-key' or cosign, or a PKCS#8 ECDSA P-256 key (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256).");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>The encrypted private key as cosign writes it: a PEM block <c>ENCRYPTED SIGSTORE PRIVATE KEY</c>.</summary>
    public byte[] ToEncryptedPem(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var pkcs8 = _key.ExportPkcs8PrivateKey();
        try
        {
            var envelope = EncryptedKeyEnvelope.Seal(pkcs8, Encoding.UTF8.GetBytes(password));
            return Encoding.ASCII.GetBytes(new string(PemEncoding.Write(SigstoreLabel, envelope)) + "\n");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>An ECDSA P-256/SHA-256 signature of <paramref name="data"/>, ASN.1 DER encoded.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <inheritdoc />
    public void Dispose()
    {
        _key.Dispose();
        PublicKey.Dispose();
    }

    /// <summary>Never shows the key.</summary>
    public override string ToString() => "SigningKey { ECDSA P-256, *** }";

    private static SigningKey FromDer(byte[] der, bool pkcs8, string where)
    {
        var key = ECDsa.Create();
        try
        {
            if (pkcs8)
            {
                key.ImportPkcs8PrivateKey(der, out var read);
                if (read != der.Length)
                {
                    throw new CryptographicException("trailing bytes");
                }
            }
            else
            {
                key.ImportECPrivateKey(der, out _);
            }
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw new KoException(KoErrorCodes.SigningKeyUnreadable, $"{where} is not an ECDSA private key ko can read (an RSA or Ed25519 key, or damaged bytes); ko signs with ECDSA P-256 keys, as cosign's default.");
        }

        var curve = key.ExportParameters(false).Curve;
        if (curve.Oid?.Value != P256Oid)
        {
            var name = curve.Oid?.FriendlyName ?? curve.Oid?.Value ?? "an explicit curve";
            key.Dispose();
            throw new KoException(KoErrorCodes.SigningKeyUnreadable, $"{where} is an ECDSA key on {name}, not P-256 (prime256v1); ko signs with P-256, as cosign's default. Make one with 'dotnet ko generate-key'.");
        }

        return new SigningKey(key);
    }

    /// <summary>A key file's bytes: a regular file of at most <see cref="MaxKeyFileBytes"/>, else <paramref name="code"/>.</summary>
    internal static async Task<byte[]> ReadKeyFileAsync(string path, string code, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await Util.BoundedFile.ReadAsync(path, MaxKeyFileBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (FormatException ex)
        {
            throw new KoException(code, $"cannot use the {what} {path}: {ex.Message} A key file is a small PEM file.", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(code, $"cannot read the {what} {path}: {Util.SystemMessage.Of(ex)}", ex);
        }
    }

    /// <summary>The label and DER bytes of the first PEM block in <paramref name="bytes"/>, else <paramref name="code"/>.</summary>
    internal static (string Label, byte[] Der) FirstPemBlock(byte[] bytes, string where, string code, string expected)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new KoException(code, $"{where} is not {expected}: it is not text.");
        }

        if (!PemEncoding.TryFind(text, out var fields))
        {
            throw new KoException(code, $"{where} is not {expected}: it has no complete PEM block (-----BEGIN …----- … -----END …-----).");
        }

        var label = text[fields.Label];
        var der = new byte[fields.DecodedDataLength];
        if (!Convert.TryFromBase64Chars(text.AsSpan()[fields.Base64Data], der, out var written) || written != der.Length)
        {
            throw new KoException(code, $"{where} is not {expected}: its PEM block is not base64.");
        }

        return (label, der);
    }

    /// <summary>Text from a file, safe to quote in one line: control characters removed, at most 40 characters.</summary>
    internal static string Printable(string text)
    {
        var clean = new string(text.Where(c => !char.IsControl(c)).Take(40).ToArray());
        return text.Length > 40 ? clean + "…" : clean;
    }
}
