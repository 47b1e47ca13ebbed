using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ko.Engine.Signing;

namespace Ko.Engine.Tests;

/// <summary>
/// Signing keys from outside: cosign's encrypted format (round trip, wrong password, truncation, hostile scrypt
/// parameters), plain PKCS#8 keys from openssl, wrong curves and key types, huge files and FIFOs. Each good input has a
/// bad twin; no failure shows the key or the password.
/// </summary>
public sealed class SigningKeyTests : IDisposable
{
    private const string Password = "correct horse battery staple";
    private readonly TempDir _dir = new("ko-signkey");

    public void Dispose() => _dir.Dispose();

    private static Func<CancellationToken, ValueTask<string?>> Pw(string? password) => _ => ValueTask.FromResult(password);

    private static async Task<KoException> FailsAsync(byte[] pem, string? password = Password) =>
        await Assert.ThrowsAsync<KoException>(async () => (await SigningKey.FromPemAsync(pem, "test.key", Pw(password), CancellationToken.None)).Dispose());

    private static byte[] EnvelopeOf(byte[] pem)
    {
        var text = Encoding.ASCII.GetString(pem);
        Assert.True(PemEncoding.TryFind(text, out var fields));
        return Convert.FromBase64String(text[fields.Base64Data]);
    }

    private static byte[] Rewrap(JsonElement envelope) =>
        Encoding.ASCII.GetBytes(new string(PemEncoding.Write(SigningKey.SigstoreLabel, JsonSerializer.SerializeToUtf8Bytes(envelope))));

    [Fact]
    public async Task A_generated_key_round_trips_through_cosigns_encrypted_format_and_its_signatures_verify()
    {
        using var key = SigningKey.Generate();
        var pem = key.ToEncryptedPem(Password);
        var text = Encoding.ASCII.GetString(pem);
        Assert.StartsWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n", text);
        Assert.EndsWith("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n", text);
        using var envelope = JsonDocument.Parse(EnvelopeOf(pem));
        Assert.Equal("scrypt", envelope.RootElement.GetProperty("kdf").GetProperty("name").GetString());
        Assert.Equal(32768, envelope.RootElement.GetProperty("kdf").GetProperty("params").GetProperty("N").GetInt32());
        Assert.Equal("nacl/secretbox", envelope.RootElement.GetProperty("cipher").GetProperty("name").GetString());
        Assert.Equal(24, Convert.FromBase64String(envelope.RootElement.GetProperty("cipher").GetProperty("nonce").GetString()!).Length);
        Assert.DoesNotContain(Password, text);

        using var loaded = await SigningKey.FromPemAsync(pem, "test.key", Pw(Password), CancellationToken.None);
        var data = "payload"u8.ToArray();
        Assert.True(key.PublicKey.Verify(data, loaded.Sign(data)));
        Assert.False(key.PublicKey.Verify("other"u8, loaded.Sign(data)));
        Assert.Equal(key.PublicKey.ToPem(), loaded.PublicKey.ToPem());
    }

    [Fact]
    public async Task The_wrong_password_is_KO5002_and_the_message_shows_neither_password()
    {
        using var key = SigningKey.Generate();
        var ex = await FailsAsync(key.ToEncryptedPem(Password), "not-the-password");
        Assert.Equal(KoErrorCodes.SigningKeyPassword, ex.Code);
        Assert.Contains("test.key", ex.Message);
        Assert.DoesNotContain("not-the-password", ex.Message);
        Assert.DoesNotContain(Password, ex.Message);
    }

    [Fact]
    public async Task An_encrypted_key_without_any_password_source_is_KO5002_naming_KO_SIGN_PASSWORD()
    {
        using var key = SigningKey.Generate();
        var ex = await FailsAsync(key.ToEncryptedPem(Password), null);
        Assert.Equal(KoErrorCodes.SigningKeyPassword, ex.Code);
        Assert.Contains("KO_SIGN_PASSWORD", ex.Message);
    }

    [Fact]
    public async Task An_empty_password_is_a_password_as_in_cosign()
    {
        using var key = SigningKey.Generate();
        using var loaded = await SigningKey.FromPemAsync(key.ToEncryptedPem(string.Empty), "test.key", Pw(string.Empty), CancellationToken.None);
        Assert.Equal(key.PublicKey.ToPem(), loaded.PublicKey.ToPem());
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public async Task A_truncated_key_file_is_KO5001_not_a_crash(double keep)
    {
        using var key = SigningKey.Generate();
        var pem = key.ToEncryptedPem(Password);
        var ex = await FailsAsync(pem[..(int)(pem.Length * keep)]);
        Assert.Equal(KoErrorCodes.SigningKeyUnreadable, ex.Code);
        Assert.Contains("PEM", ex.Message);
    }

    [Fact]
    public async Task A_flipped_ciphertext_byte_is_refused_like_a_wrong_password()
    {
        using var key = SigningKey.Generate();
        using var doc = JsonDocument.Parse(EnvelopeOf(key.ToEncryptedPem(Password)));
        var node = System.Text.Json.Nodes.JsonNode.Parse(doc.RootElement.GetRawText())!;
        var box = Convert.FromBase64String(node["ciphertext"]!.GetValue<string>());
        box[^1] ^= 1;
        node["ciphertext"] = Convert.ToBase64String(box);
        var ex = await FailsAsync(Rewrap(JsonDocument.Parse(node.ToJsonString()).RootElement));
        Assert.Equal(KoErrorCodes.SigningKeyPassword, ex.Code);
    }

    [Theory]
    [InlineData(1073741824, 8, 1)]
    [InlineData(32768, 1024, 1)]
    [InlineData(32768, 8, 64)]
    public async Task Scrypt_parameters_sigstore_never_writes_are_refused_before_any_work(int n, int r, int p)
    {
        using var key = SigningKey.Generate();
        var node = System.Text.Json.Nodes.JsonNode.Parse(EnvelopeOf(key.ToEncryptedPem(Password)))!;
        node["kdf"]!["params"] = new System.Text.Json.Nodes.JsonObject { ["N"] = n, ["r"] = r, ["p"] = p };
        var clock = Stopwatch.StartNew();
        var ex = await FailsAsync(Rewrap(JsonDocument.Parse(node.ToJsonString()).RootElement));
        Assert.Equal(KoErrorCodes.SigningKeyUnreadable, ex.Code);
        Assert.Contains("scrypt parameters", ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("[1,2]")]
    [InlineData("not json")]
    [InlineData("{\"kdf\":{\"name\":\"pbkdf2\"}}")]
    [InlineData("{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":32768,\"r\":8,\"p\":1},\"salt\":\"!!\"}}")]
    public async Task A_malformed_envelope_is_KO5001_with_a_sentence(string json)
    {
        var pem = Encoding.ASCII.GetBytes(new string(PemEncoding.Write(SigningKey.SigstoreLabel, Encoding.UTF8.GetBytes(json))));
        var ex = await FailsAsync(pem);
        Assert.Equal(KoErrorCodes.SigningKeyUnreadable, ex.Code);
        Assert.Contains("not a sigstore encrypted key", ex.Message);
    }

    [Fact]
    public async Task A_PKCS8_key_from_openssl_signs_and_a_P384_key_from_openssl_is_KO5001_naming_the_curve()
    {
        var good = Path.Combine(_dir.Path, "p256.pem");
        var bad = Path.Combine(_dir.Path, "p384.pem");
        await Openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", good);
        await Openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", bad);
        using (var key = await SigningKey.LoadAsync(good, Pw(null), CancellationToken.None))
        {
            var data = "x"u8.ToArray();
            Assert.True(key.PublicKey.Verify(data, key.Sign(data)));
        }

        var ex = await Assert.ThrowsAsync<KoException>(() => SigningKey.LoadAsync(bad, Pw(null), CancellationToken.None));
        Assert.Equal(KoErrorCodes.SigningKeyUnreadable, ex.Code);
        Assert.Contains("P-256", ex.Message);
        Assert.Contains(bad, ex.Message);
    }

    [Fact]
    public async Task An_RSA_key_is_KO5001_saying_ko_signs_with_ECDSA()
    {
        using var rsa = RSA.Create(2048);
        var ex = await FailsAsync(Encoding.ASCII.GetBytes(rsa.ExportPkcs8PrivateKeyPem()));
        Assert.Equal(KoErrorCodes.SigningKeyUnreadable, ex.Code);
        Assert.Contains("ECDSA", ex.Message);
    }

    [Fact]
    public async Task A_public_key_given_as_the_signing_key_is_KO5001_naming_the_block()
    {
        using var key = SigningKey.Generate();
        var ex = await FailsAsync(Encoding.ASCII.GetBytes(key.PublicKey.ToPem()));
        Assert.Equal(KoErrorCodes.SigningKeyUnreadable, ex.Code);
        Assert.Contains("'PUBLIC KEY'", ex.Message);
    }

    [Fact]
    public async Task A_huge_key_file_is_refused_without_reading_it()
    {
        var path = Path.Combine(_dir.Path, "huge.key");
        await using (var f = File.Create(path))
        {
            f.SetLength(4L << 30); // sparse: 4 GiB that are never read
        }

        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<KoException>(() => SigningKey.LoadAsync(path, Pw(Password), CancellationToken.None));
        Assert.Equal(KoErrorCodes.SigningKeyUnreadable, ex.Code);
        Assert.Contains("bytes", ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task A_FIFO_as_the_key_file_is_KO5001_not_a_wait()
    {
        var path = Path.Combine(_dir.Path, "fifo.key");
        await Run("mkfifo", path);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var ex = await Assert.ThrowsAsync<KoException>(() => SigningKey.LoadAsync(path, Pw(Password), timeout.Token));
        Assert.Equal(KoErrorCodes.SigningKeyUnreadable, ex.Code);
    }

    [Fact]
    public async Task A_missing_public_key_file_and_a_private_key_given_as_public_are_KO5003()
    {
        var missing = await Assert.ThrowsAsync<KoException>(() => VerificationKey.LoadAsync(Path.Combine(_dir.Path, "none.pub"), CancellationToken.None));
        Assert.Equal(KoErrorCodes.PublicKeyUnreadable, missing.Code);
        using var key = SigningKey.Generate();
        var ex = Assert.Throws<KoException>(() => VerificationKey.FromPem(key.ToEncryptedPem(Password), "cosign.key"));
        Assert.Equal(KoErrorCodes.PublicKeyUnreadable, ex.Code);
        Assert.Contains("give the .pub file", ex.Message);
        using var good = VerificationKey.FromPem(Encoding.ASCII.GetBytes(key.PublicKey.ToPem()), "cosign.pub");
        Assert.True(good.Verify("a"u8, key.Sign("a"u8)));
    }

    [Fact]
    public void A_signature_that_is_not_DER_does_not_verify_and_does_not_throw()
    {
        using var key = SigningKey.Generate();
        Assert.False(key.PublicKey.Verify("a"u8, new byte[] { 0x30, 0x99, 1, 2 }));
        Assert.False(key.PublicKey.Verify("a"u8, []));
    }

    [Fact]
    public void The_key_never_shows_in_ToString()
    {
        using var key = SigningKey.Generate();
        Assert.Equal("SigningKey { ECDSA P-256, *** }", key.ToString());
    }

    private static Task Openssl(params string[] args) => Run("openssl", args);

    private static async Task Run(string tool, params string[] args)
    {
        var result = await CliWrap.Cli.Wrap(ToolPath.Require(tool)).WithArguments(args).WithValidation(CliWrap.CommandResultValidation.None)
            .ExecuteAsync();
        Assert.True(result.ExitCode == 0, $"{tool} {string.Join(' ', args)} failed");
    }
}
