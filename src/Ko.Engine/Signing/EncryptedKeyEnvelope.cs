using System.Security.Cryptography;
using System.Text.Json;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace Ko.Engine.Signing;

/// <summary>
/// The password-protected container sigstore uses for private keys (inside an <c>ENCRYPTED SIGSTORE PRIVATE KEY</c>
/// PEM block): a JSON object naming scrypt as the key-derivation function (N, r, p and a salt) and NaCl secretbox
/// (XSalsa20-Poly1305, a 24-byte nonce) as the cipher, with the sealed PKCS#8 bytes. Written with scrypt N=32768,
/// r=8, p=1 (what cosign's <c>generate-key-pair</c> and older readers such as skopeo 1.9 use); read with only the three
/// parameter sets sigstore's library accepts, so a hostile file cannot ask for gigabytes of scrypt memory.
/// </summary>
internal static class EncryptedKeyEnvelope
{
    private const int KeyBytes = 32;
    private const int NonceBytes = 24;
    private const int TagBytes = 16;
    private const int SaltBytes = 32;

    /// <summary>The (N, r, p) sets a reader accepts: sigstore's legacy, standard and OWASP strengths.</summary>
    private static readonly (int N, int R, int P)[] Accepted = [(32768, 8, 1), (65536, 8, 1), (131072, 8, 1)];

    /// <summary>Seals <paramref name="plaintext"/> under <paramref name="password"/>; the JSON bytes cosign writes.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var nonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var (n, r, p) = Accepted[0];
        var key = SCrypt.Generate(password.ToArray(), salt, n, r, p, KeyBytes);
        try
        {
            var sealedBytes = SecretBoxSeal(key, nonce, plaintext);
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, Oci.OciJson.WriterOptions))
            {
                w.WriteStartObject();
                w.WriteStartObject("kdf");
                w.WriteString("name", "scrypt");
                w.WriteStartObject("params");
                w.WriteNumber("N", n);
                w.WriteNumber("r", r);
                w.WriteNumber("p", p);
                w.WriteEndObject();
                w.WriteString("salt", Convert.ToBase64String(salt));
                w.WriteEndObject();
                w.WriteStartObject("cipher");
                w.WriteString("name", "nacl/secretbox");
                w.WriteString("nonce", Convert.ToBase64String(nonce));
                w.WriteEndObject();
                w.WriteString("ciphertext", Convert.ToBase64String(sealedBytes));
                w.WriteEndObject();
            }

            return buffer.ToArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// Opens the JSON envelope. A malformed envelope is a <see cref="FormatException"/> (its message says what is
    /// wrong, never any key bytes); a wrong password (or altered bytes) is a <see cref="CryptographicException"/>.
    /// </summary>
    public static byte[] Open(ReadOnlySpan<byte> json, ReadOnlySpan<byte> password)
    {
        byte[] salt, nonce, box;
        int n, r, p;
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
            var root = Object(doc.RootElement, "the encrypted key");
            var kdf = Object(Property(root, "kdf"), "kdf");
            if (Text(kdf, "name") != "scrypt")
            {
                throw new FormatException($"its key-derivation function is '{Text(kdf, "name")}', not scrypt");
            }

            var parameters = Object(Property(kdf, "params"), "kdf.params");
            (n, r, p) = (Int(parameters, "N"), Int(parameters, "r"), Int(parameters, "p"));
            if (!Accepted.Contains((n, r, p)))
            {
                throw new FormatException($"its scrypt parameters (N={n}, r={r}, p={p}) are not one of the sets sigstore writes");
            }

            salt = Base64(kdf, "salt", 1, 1024);
            var cipher = Object(Property(root, "cipher"), "cipher");
            if (Text(cipher, "name") != "nacl/secretbox")
            {
                throw new FormatException($"its cipher is '{Text(cipher, "name")}', not nacl/secretbox");
            }

            nonce = Base64(cipher, "nonce", NonceBytes, NonceBytes);
            box = Base64(root, "ciphertext", TagBytes, 1 << 20);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"it is not JSON (line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1})", ex);
        }

        var key = SCrypt.Generate(password.ToArray(), salt, n, r, p, KeyBytes);
        try
        {
            return SecretBoxOpen(key, nonce, box);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>NaCl <c>crypto_secretbox</c>: the Poly1305 tag (keyed by the first 32 bytes of the XSalsa20 stream) then the ciphertext.</summary>
    internal static byte[] SecretBoxSeal(byte[] key, byte[] nonce, ReadOnlySpan<byte> plaintext)
    {
        var stream = new XSalsa20Engine();
        stream.Init(true, new ParametersWithIV(new KeyParameter(key), nonce));
        var macKey = new byte[32];
        stream.ProcessBytes(new byte[32], 0, 32, macKey, 0);
        var output = new byte[TagBytes + plaintext.Length];
        var input = plaintext.ToArray();
        stream.ProcessBytes(input, 0, input.Length, output, TagBytes);
        var mac = new Poly1305();
        mac.Init(new KeyParameter(macKey));
        mac.BlockUpdate(output, TagBytes, input.Length);
        mac.DoFinal(output, 0);
        CryptographicOperations.ZeroMemory(macKey);
        CryptographicOperations.ZeroMemory(input);
        return output;
    }

    /// <summary>Opens a secretbox; a tag that does not match is a <see cref="CryptographicException"/>.</summary>
    internal static byte[] SecretBoxOpen(byte[] key, byte[] nonce, byte[] box)
    {
        if (box.Length < TagBytes)
        {
            throw new CryptographicException("the sealed key is too short.");
        }

        var stream = new XSalsa20Engine();
        stream.Init(false, new ParametersWithIV(new KeyParameter(key), nonce));
        var macKey = new byte[32];
        stream.ProcessBytes(new byte[32], 0, 32, macKey, 0);
        var mac = new Poly1305();
        mac.Init(new KeyParameter(macKey));
        mac.BlockUpdate(box, TagBytes, box.Length - TagBytes);
        var tag = new byte[TagBytes];
        mac.DoFinal(tag, 0);
        CryptographicOperations.ZeroMemory(macKey);
        if (!CryptographicOperations.FixedTimeEquals(tag, box.AsSpan(0, TagBytes)))
        {
            throw new CryptographicException("the password is wrong or the key file was altered.");
        }

        var plaintext = new byte[box.Length - TagBytes];
        stream.ProcessBytes(box, TagBytes, plaintext.Length, plaintext, 0);
        return plaintext;
    }

    private static JsonElement Object(JsonElement element, string what) =>
        element.ValueKind == JsonValueKind.Object ? element : throw new FormatException($"{what} is not a JSON object");

    private static JsonElement Property(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value : throw new FormatException($"it has no '{name}'");

    private static string Text(JsonElement element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.String } s ? s.GetString()! : throw new FormatException($"'{name}' is not a string");

    private static int Int(JsonElement element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt32(out var i) ? i : throw new FormatException($"'{name}' is not a whole number");

    private static byte[] Base64(JsonElement element, string name, int min, int max)
    {
        var text = Text(element, name);
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (System.FormatException)
        {
            throw new FormatException($"'{name}' is not base64");
        }

        return bytes.Length >= min && bytes.Length <= max ? bytes : throw new FormatException($"'{name}' has {bytes.Length} bytes, not {min}{(min == max ? string.Empty : $" to {max}")}");
    }
}
