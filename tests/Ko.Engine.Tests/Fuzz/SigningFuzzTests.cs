using System.Security.Cryptography;
using CsCheck;
using System.Text;
using Ko.Engine.Oci;
using Ko.Engine.Signing;
using static Ko.Engine.Tests.Fuzz.FuzzSupport;

namespace Ko.Engine.Tests.Fuzz;

/// <summary>
/// Fuzz/property tests of the signing parsers of outside input: key files (PEM and the encrypted envelope inside),
/// public keys, simple-signing payloads, signature manifests, DSSE envelopes and in-toto statements. Each answers a
/// KoException or a FormatException with a sentence, nothing else, and never echoes the password.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class SigningFuzzTests
{
    private const string Password = "Fuzz-Password-9q";
    private static readonly Digest Subject = Digest.Sha256("s"u8);

    // Refused parameter sets only: a valid one costs a whole scrypt (about a second) per case; that path is unit-tested.
    private static readonly string[] EnvelopeSeeds =
    [
        "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":16384,\"r\":8,\"p\":1},\"salt\":\"AAAA\"},\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}",
        "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":1,\"r\":1,\"p\":1}},\"cipher\":{},\"ciphertext\":5}",
    ];

    private static readonly string[] PayloadSeeds =
    [
        $"{{\"critical\":{{\"identity\":{{\"docker-reference\":\"r/a:t\"}},\"image\":{{\"docker-manifest-digest\":\"{Subject}\"}},\"type\":\"cosign container image signature\"}},\"optional\":{{\"creator\":\"x\",\"timestamp\":1}}}}",
        $"{{\"critical\":{{\"identity\":{{}},\"image\":{{\"docker-manifest-digest\":\"{Subject}\"}},\"type\":\"\"}},\"optional\":null}}",
    ];

    private static readonly string[] ManifestSeeds =
    [
        $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2,\"digest\":\"{Subject}\"}},\"layers\":[{{\"mediaType\":\"application/vnd.dev.cosign.simplesigning.v1+json\",\"size\":3,\"digest\":\"{Subject}\",\"annotations\":{{\"dev.cosignproject.cosign/signature\":\"MEUCIQ==\"}}}}]}}",
        "{\"layers\":[{\"mediaType\":5}],\"config\":null}",
    ];

    private static readonly string[] EnvelopeJsonSeeds =
    [
        "{\"payloadType\":\"application/vnd.in-toto+json\",\"payload\":\"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjAuMSJ9\",\"signatures\":[{\"keyid\":\"\",\"sig\":\"MEUC\"}]}",
        "{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"predicateType\":\"p\",\"subject\":[{\"name\":\"r\",\"digest\":{\"sha256\":\"" + Subject.Hex + "\"}}],\"predicate\":{}}",
    ];

    private static Task<SigningKey> LoadAsync(string pem) =>
        SigningKey.FromPemAsync(Encoding.UTF8.GetBytes(pem), "fuzz.key", _ => ValueTask.FromResult<string?>(Password), CancellationToken.None);

    private static void OnlyFormatException(Action parse)
    {
        try
        {
            parse();
        }
        catch (FormatException ex)
        {
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        }
    }

    [Fact]
    public Task Encrypted_key_files_answer_a_KO_error_and_never_show_the_password() =>
        CheckEachAsync(
            HostileJson(EnvelopeSeeds).Select(json => new string(PemEncoding.Write(SigningKey.SigstoreLabel, Encoding.UTF8.GetBytes(json)))),
            async pem =>
            {
                try
                {
                    (await LoadAsync(pem)).Dispose();
                }
                catch (KoException ex)
                {
                    Assert.Matches(@"^KO500[12]$", ex.Code);
                    Assert.DoesNotContain(Password, ex.ToString(), StringComparison.Ordinal);
                }
            },
            300);

    [Fact]
    public Task Arbitrary_key_and_public_key_text_answers_only_KO_errors() =>
        CheckEachAsync(
            Hostile(400, "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n", "-----BEGIN EC PRIVATE KEY-----\n\n-----END EC PRIVATE KEY-----"),
            async text =>
            {
                try
                {
                    (await LoadAsync(text)).Dispose();
                }
                catch (KoException ex)
                {
                    Assert.Matches(@"^KO500[12]$", ex.Code);
                }

                OnlyKoException(() => VerificationKey.FromPem(Encoding.UTF8.GetBytes(text), "fuzz.pub").Dispose());
            },
            1000);

    [Fact]
    public Task Payloads_manifests_envelopes_and_statements_answer_only_FormatException() =>
        CheckAsync(
            HostileJson([.. PayloadSeeds, .. ManifestSeeds, .. EnvelopeJsonSeeds]),
            text =>
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                OnlyFormatException(() => SimpleSigningPayload.Parse(bytes));
                OnlyFormatException(() => SignatureArtifact.ReadLayers(bytes));
                OnlyFormatException(() => SignatureArtifact.Create(Subject, "sig", (bytes, bytes), [(new Descriptor("m", Subject, 1), [1])]));
                OnlyFormatException(() => DsseEnvelope.Parse(bytes));
                OnlyFormatException(() => InTotoStatement.Read(bytes));
            },
            2000);
}
