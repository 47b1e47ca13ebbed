using System.Text;
using System.Text.Json;
using Ko.Engine.Oci;
using Ko.Engine.Signing;

namespace Ko.Engine.Tests;

/// <summary>
/// The bytes cosign and containers/image read: the simple-signing payload, the signature manifest and config (and
/// appending to one written by another tool), the DSSE pre-authentication encoding and the in-toto statement; and the
/// parsers of those documents when a registry serves something else.
/// </summary>
public sealed class SignatureFormatTests
{
    private static readonly Digest Subject = Digest.Sha256("image"u8);

    [Fact]
    public void The_payload_is_cosigns_simple_signing_document_with_optional_null_when_there_are_no_annotations()
    {
        var bytes = new SimpleSigningPayload("127.0.0.1:5000/team/app", Subject, new Dictionary<string, string>()).ToBytes();
        Assert.Equal(
            $"{{\"critical\":{{\"identity\":{{\"docker-reference\":\"127.0.0.1:5000/team/app\"}},\"image\":{{\"docker-manifest-digest\":\"{Subject}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}",
            Encoding.UTF8.GetString(bytes));
        var withAnnotations = new SimpleSigningPayload("r/a", Subject, new Dictionary<string, string> { ["z"] = "1", ["a"] = "2" }).ToBytes();
        Assert.EndsWith("\"optional\":{\"a\":\"2\",\"z\":\"1\"}}", Encoding.UTF8.GetString(withAnnotations));
        var parsed = SimpleSigningPayload.Parse(withAnnotations);
        Assert.Equal(("r/a", Subject, "2"), (parsed.DockerReference, parsed.ManifestDigest, parsed.Optional["a"]));
    }

    [Theory]
    [InlineData("{\"critical\":{\"identity\":{\"docker-reference\":\"r/a\"},\"image\":{\"docker-manifest-digest\":\"sha256:00\"},\"type\":\"cosign container image signature\"},\"optional\":null}", "not a digest")]
    [InlineData("{\"critical\":{\"identity\":{\"docker-reference\":\"r/a\"},\"image\":{\"docker-manifest-digest\":\"DIGEST\"},\"type\":\"atomic container signature\"},\"optional\":null}", "critical.type")]
    [InlineData("{\"critical\":{\"identity\":{\"docker-reference\":\"r/a\"},\"image\":{\"docker-manifest-digest\":\"DIGEST\"},\"type\":\"cosign container image signature\",\"extra\":1}}", "unknown key")]
    [InlineData("{\"critical\":{\"identity\":{\"docker-reference\":5},\"image\":{\"docker-manifest-digest\":\"DIGEST\"},\"type\":\"cosign container image signature\"}}", "not a string")]
    [InlineData("{\"critical\":[]}", "not a JSON object")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("{\"critical\":", "not JSON")]
    public void A_payload_that_is_not_cosigns_is_refused_with_the_reason(string json, string reason)
    {
        var ex = Assert.Throws<FormatException>(() => SimpleSigningPayload.Parse(Encoding.UTF8.GetBytes(json.Replace("DIGEST", Subject.ToString()))));
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void A_deeply_nested_payload_is_refused_without_a_stack_overflow()
    {
        var json = "{\"critical\":" + new string('[', 100000) + new string(']', 100000) + "}";
        Assert.Throws<FormatException>(() => SimpleSigningPayload.Parse(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void A_new_signature_manifest_has_cosigns_config_and_layer_shape_and_is_deterministic()
    {
        var payload = "p"u8.ToArray();
        var layer = new Descriptor(SignatureArtifact.SimpleSigningMediaType, Digest.Sha256(payload), 1)
        {
            Annotations = new Dictionary<string, string> { [SignatureArtifact.SignatureAnnotation] = "c2ln" },
        };
        var a = SignatureArtifact.Create(Subject, "sig", null, [(layer, payload)]);
        var b = SignatureArtifact.Create(Subject, "sig", null, [(layer, payload)]);
        Assert.Equal(a.ManifestBytes, b.ManifestBytes);
        Assert.Equal($"sha256-{Subject.Hex}.sig", a.Tag);
        Assert.Equal(
            $"{{\"architecture\":\"\",\"created\":\"0001-01-01T00:00:00Z\",\"history\":[{{\"created\":\"0001-01-01T00:00:00Z\"}}],\"os\":\"\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{layer.Digest}\"]}},\"config\":{{}}}}",
            Encoding.UTF8.GetString(a.ConfigBytes));
        using var manifest = JsonDocument.Parse(a.ManifestBytes);
        var root = manifest.RootElement;
        Assert.Equal(MediaTypes.OciManifest, root.GetProperty("mediaType").GetString());
        Assert.Equal(MediaTypes.OciConfig, root.GetProperty("config").GetProperty("mediaType").GetString());
        Assert.Equal(TestUtil.Sha256Ref(a.ConfigBytes), root.GetProperty("config").GetProperty("digest").GetString());
        var l = Assert.Single(root.GetProperty("layers").EnumerateArray());
        Assert.Equal("c2ln", l.GetProperty("annotations").GetProperty("dev.cosignproject.cosign/signature").GetString());
        Assert.Equal([a.ConfigDescriptor.Digest, layer.Digest], a.Blobs().Select(x => x.Digest));
    }

    [Fact]
    public void Appending_keeps_every_existing_layer_field_and_config_field_another_tool_wrote()
    {
        var existingConfig = "{\"architecture\":\"\",\"created\":\"2024-01-01T00:00:00Z\",\"history\":[{\"created\":\"0001-01-01T00:00:00Z\"}],\"os\":\"\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:aa\"]},\"config\":{}}"u8.ToArray();
        var existing = Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":{existingConfig.Length},\"digest\":\"{TestUtil.Sha256Ref(existingConfig)}\"}},\"layers\":[{{\"mediaType\":\"application/vnd.dev.cosign.simplesigning.v1+json\",\"size\":3,\"digest\":\"{Subject}\",\"annotations\":{{\"dev.cosignproject.cosign/signature\":\"b2xk\",\"dev.sigstore.cosign/bundle\":\"{{}}\"}},\"urls\":[\"x\"]}}],\"annotations\":{{\"kept\":\"yes\"}}}}");
        var payload = "new"u8.ToArray();
        var layer = new Descriptor(SignatureArtifact.SimpleSigningMediaType, Digest.Sha256(payload), 3);
        var artifact = SignatureArtifact.Create(Subject, "sig", (existing, existingConfig), [(layer, payload)]);
        Assert.True(artifact.Appended);
        Assert.Equal(2, artifact.LayerCount);
        using var m = JsonDocument.Parse(artifact.ManifestBytes);
        var layers = m.RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal("b2xk", layers[0].GetProperty("annotations").GetProperty("dev.cosignproject.cosign/signature").GetString());
        Assert.Equal("x", layers[0].GetProperty("urls")[0].GetString());
        Assert.Equal(layer.Digest.ToString(), layers[1].GetProperty("digest").GetString());
        Assert.Equal("yes", m.RootElement.GetProperty("annotations").GetProperty("kept").GetString());
        using var c = JsonDocument.Parse(artifact.ConfigBytes);
        Assert.Equal("2024-01-01T00:00:00Z", c.RootElement.GetProperty("created").GetString());
        Assert.Equal(["sha256:aa", layer.Digest.ToString()], c.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2, c.RootElement.GetProperty("history").GetArrayLength());
    }

    [Theory]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}", "not an OCI image manifest")]
    [InlineData("{\"schemaVersion\":2,\"layers\":{}}", "no layers list")]
    [InlineData("{\"layers\":[],\"layers\":[]}", "not JSON")]
    [InlineData("[]", "not a JSON object")]
    public void An_existing_signature_manifest_of_another_shape_is_refused_with_the_reason(string manifest, string reason)
    {
        var layer = new Descriptor(SignatureArtifact.SimpleSigningMediaType, Subject, 1);
        var ex = Assert.Throws<FormatException>(() => SignatureArtifact.Create(Subject, "sig", (Encoding.UTF8.GetBytes(manifest), "{\"rootfs\":{\"diff_ids\":[]}}"u8.ToArray()), [(layer, "x"u8.ToArray())]));
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void A_manifest_with_more_layers_than_cosign_allows_is_refused()
    {
        var layers = string.Join(",", Enumerable.Repeat($"{{\"mediaType\":\"m\",\"size\":1,\"digest\":\"{Subject}\"}}", SignatureArtifact.MaxLayers + 1));
        var ex = Assert.Throws<FormatException>(() => SignatureArtifact.ReadLayers(Encoding.UTF8.GetBytes($"{{\"layers\":[{layers}]}}")));
        Assert.Contains("1001 layers", ex.Message);
    }

    [Fact]
    public void The_DSSE_signature_covers_the_pre_authentication_encoding_and_verifies_after_a_round_trip()
    {
        Assert.Equal("DSSEv1 28 application/vnd.in-toto+json 2 {}", Encoding.UTF8.GetString(DsseEnvelope.Pae(DsseEnvelope.InTotoPayloadType, "{}"u8)));
        using var key = SigningKey.Generate();
        using var other = SigningKey.Generate();
        var statement = InTotoStatement.Create("r/a", Subject, InTotoStatement.SpdxPredicate, "{\"spdxVersion\":\"SPDX-2.3\"}"u8);
        var envelope = DsseEnvelope.Parse(DsseEnvelope.Sign(DsseEnvelope.InTotoPayloadType, statement, key).ToBytes());
        Assert.True(envelope.VerifiedBy(key.PublicKey));
        Assert.False(envelope.VerifiedBy(other.PublicKey));
        Assert.False((envelope with { PayloadType = "text/plain" }).VerifiedBy(key.PublicKey));
        var (type, subjects) = InTotoStatement.Read(envelope.Payload);
        Assert.Equal((InTotoStatement.SpdxPredicate, Subject), (type, Assert.Single(subjects)));
        using var doc = JsonDocument.Parse(statement);
        Assert.Equal("https://in-toto.io/Statement/v0.1", doc.RootElement.GetProperty("_type").GetString());
        Assert.Equal("SPDX-2.3", doc.RootElement.GetProperty("predicate").GetProperty("spdxVersion").GetString());
    }

    [Theory]
    [InlineData("{\"payloadType\":\"x\"}", "no base64 payload")]
    [InlineData("{\"payload\":\"e30=\"}", "no payloadType")]
    [InlineData("{\"payloadType\":\"x\",\"payload\":\"!!\"}", "no base64 payload")]
    [InlineData("nope", "not JSON")]
    public void An_envelope_that_is_not_DSSE_is_refused_with_the_reason(string json, string reason)
    {
        var ex = Assert.Throws<FormatException>(() => DsseEnvelope.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(reason, ex.Message);
    }

    [Theory]
    [InlineData("{\"_type\":\"other\"}")]
    [InlineData("{\"_type\":\"https://in-toto.io/Statement/v1\"}")]
    [InlineData("5")]
    public void A_statement_that_is_not_in_toto_is_refused(string json) =>
        Assert.Throws<FormatException>(() => InTotoStatement.Read(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void The_timestamp_annotation_and_an_empty_key_are_refused_as_containers_image_would_reject_them()
    {
        Assert.Equal(KoErrorCodes.InvalidSignAnnotation, Assert.Throws<KoException>(() => ImageSigner.CheckAnnotations(new Dictionary<string, string> { ["timestamp"] = "x" })).Code);
        Assert.Equal(KoErrorCodes.InvalidSignAnnotation, Assert.Throws<KoException>(() => ImageSigner.CheckAnnotations(new Dictionary<string, string> { [" "] = "x" })).Code);
        ImageSigner.CheckAnnotations(new Dictionary<string, string> { ["creator"] = "ci" });
    }

    [Fact]
    public async Task A_signature_made_for_a_layout_carries_every_blob_and_verifies_with_the_public_key()
    {
        using var key = SigningKey.Generate();
        var subject = new Descriptor(MediaTypes.OciManifest, Subject, 100);
        var artifact = ImageSigner.SignatureFor("registry.example/team/app", subject, key, new Dictionary<string, string> { ["team"] = "core" });
        Assert.False(artifact.Appended);
        var layer = Assert.Single(SignatureArtifact.ReadLayers(artifact.ManifestBytes));
        var blobs = artifact.Blobs().ToDictionary(b => b.Digest);
        Assert.Equal([artifact.ConfigDescriptor.Digest, layer.Digest], blobs.Keys);
        await using var stream = await blobs[layer.Digest].Open(CancellationToken.None);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        var payload = copy.ToArray();
        Assert.Equal(layer.Digest, Digest.Sha256(payload));
        Assert.True(key.PublicKey.Verify(payload, ImageSigner.SignatureOf(layer)!));
        var parsed = SimpleSigningPayload.Parse(payload);
        Assert.Equal(("registry.example/team/app", Subject, "core"), (parsed.DockerReference, parsed.ManifestDigest, parsed.Optional["team"]));

        var attestation = ImageSigner.AttestationFor("registry.example/team/app", subject, key, InTotoStatement.CycloneDxPredicate, "{\"bomFormat\":\"CycloneDX\"}"u8.ToArray());
        var attLayer = Assert.Single(SignatureArtifact.ReadLayers(attestation.ManifestBytes));
        Assert.Equal((SignatureArtifact.DsseMediaType, InTotoStatement.CycloneDxPredicate), (attLayer.MediaType, attLayer.Annotations!["predicateType"]));
        Assert.Equal($"sha256-{Subject.Hex}.att", attestation.Tag);
    }
}
