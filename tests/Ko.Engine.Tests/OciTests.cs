using Ko.Engine.Oci;

namespace Ko.Engine.Tests;

public class DigestTests
{
    private const string Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; // SHA-256 of no bytes

    [Fact]
    public void Parses_valid_sha_256()
    {
        var d = Digest.Parse("sha256:" + Hex);
        Assert.Equal("sha256", d.Algorithm);
        Assert.Equal(Hex, d.Hex);
        Assert.Equal("sha256:" + Hex, d.ToString());
        Assert.True(Digest.TryParse("sha256:" + Hex, out var t));
        Assert.Equal(d, t);
    }

    [Fact]
    public void Sha_256_of_bytes_matches_the_known_empty_vector()
    {
        Assert.Equal("sha256:" + Hex, Digest.Sha256([]).ToString());
        Assert.Equal(TestUtil.Sha256Ref("abc"u8.ToArray()), Digest.Sha256("abc"u8).ToString());
    }

    [Theory]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85")] // 63 hex
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555")] // 65 hex
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")] // upper-case hex
    [InlineData("sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // not hex
    [InlineData("sha256e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // no colon
    [InlineData(":e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // no algorithm
    [InlineData("sha256:")]
    [InlineData("")]
    [InlineData(null)]
    public void Rejects_malformed(string? text)
    {
        Assert.False(Digest.TryParse(text, out _));
        if (text is not null)
        {
            Assert.Throws<FormatException>(() => Digest.Parse(text));
        }
    }

    [Fact]
    public void Parse_error_message_names_the_text()
    {
        var ex = Assert.Throws<FormatException>(() => Digest.Parse("sha256:nope"));
        Assert.Contains("sha256:nope", ex.Message);
    }

    /// <summary>
    /// The OCI image spec's digest grammar: algorithm ::= component (separator component)*, component ::= [a-z0-9]+,
    /// separator ::= [+._-]. Algorithms outside it must be rejected; they also become a directory name in
    /// <c>blobs/&lt;algorithm&gt;/&lt;hex&gt;</c>, so "../.." would escape a layout's blob directory.
    /// </summary>
    [Theory]
    [InlineData("../../etc:passwd")]
    [InlineData("a/b:abc")]
    [InlineData("SHA256:abc")]
    [InlineData("sha 256:abc")]
    public void Rejects_algorithms_outside_the_oci_grammar(string text)
    {
        Assert.False(Digest.TryParse(text, out _));
    }

    [Fact]
    public void Accepts_other_registered_algorithm_shapes()
    {
        var sha512 = "sha512:" + new string('a', 128);
        Assert.True(Digest.TryParse(sha512, out var d));
        Assert.Equal("sha512", d.Algorithm);
    }
}

public class PlatformTests
{
    [Fact]
    public void Parses_os_and_arch()
    {
        var p = Platform.Parse("linux/amd64");
        Assert.Equal(new Platform("linux", "amd64"), p);
        Assert.Null(p.Variant);
        Assert.Equal("linux/amd64", p.ToString());
    }

    [Fact]
    public void Parses_variant()
    {
        var p = Platform.Parse("linux/arm/v7");
        Assert.Equal("linux", p.Os);
        Assert.Equal("arm", p.Architecture);
        Assert.Equal("v7", p.Variant);
        Assert.Equal("linux/arm/v7", p.ToString());
    }

    [Fact]
    public void Trims_whitespace_and_lower_cases()
    {
        Assert.Equal(new Platform("linux", "arm64", "v8"), Platform.Parse("  Linux/ARM64/V8 \t"));
    }

    [Theory]
    [InlineData("linux/")]
    [InlineData("/amd64")]
    [InlineData("linux/amd64/v2/extra")]
    [InlineData("linux/amd64/v!")]
    [InlineData("linux/amd64:")]
    [InlineData("windows/amd64:10 0")]
    [InlineData("plan10/amd64")]
    [InlineData("linux/foo")]
    [InlineData("")]
    public void Rejects_bad_platforms_with_KO1001(string text)
    {
        var ex = Assert.Throws<KoException>(() => Platform.Parse(text));
        Assert.Equal("KO1001", ex.Code);
        Assert.Equal(KoErrorCodes.InvalidPlatform, ex.Code);
        Assert.Contains($"'{text}'", ex.Message);
    }

    [Fact]
    public void Messages_say_what_is_wrong_and_what_is_known()
    {
        var shape = Assert.Throws<KoException>(() => Platform.Parse("linux/"));
        Assert.Contains("linux/amd64", shape.Message); // shows an example of the right form

        var os = Assert.Throws<KoException>(() => Platform.Parse("plan10/amd64"));
        Assert.Contains("plan10", os.Message);
        Assert.Contains("linux", os.Message); // lists the known systems

        var arch = Assert.Throws<KoException>(() => Platform.Parse("linux/foo"));
        Assert.Contains("foo", arch.Message);
        Assert.Contains("arm64", arch.Message);

        var variant = Assert.Throws<KoException>(() => Platform.Parse("linux/amd64/v!"));
        Assert.Contains("v!", variant.Message);
    }

    [Fact]
    public void Accepts_follows_variant_rules()
    {
        Assert.True(Platform.Parse("linux/arm").Accepts(Platform.Parse("linux/arm/v7")));
        Assert.True(Platform.Parse("linux/arm64").Accepts(Platform.Parse("linux/arm64/v8")));
        Assert.True(Platform.Parse("linux/arm64/v8").Accepts(Platform.Parse("linux/arm64")));
        Assert.True(Platform.Parse("linux/arm/v7").Accepts(Platform.Parse("linux/arm/v7")));
        Assert.False(Platform.Parse("linux/arm/v7").Accepts(Platform.Parse("linux/arm/v6")));
        Assert.False(Platform.Parse("linux/amd64").Accepts(Platform.Parse("windows/amd64")));
        Assert.False(Platform.Parse("linux/amd64").Accepts(Platform.Parse("linux/arm64")));
    }

    [Fact]
    public void Host_is_linux()
    {
        var host = Platform.Host();
        Assert.Equal("linux", host.Os);
        Assert.Equal(host, Platform.Parse(host.ToString()));
    }
}

public class ManifestTests
{
    [Fact]
    public void Manifest_round_trips_through_its_bytes()
    {
        var config = new Descriptor(MediaTypes.OciConfig, Digest.Sha256("{}"u8), 2);
        var layer = new Descriptor(MediaTypes.OciLayerGzip, Digest.Sha256("l"u8), 1);
        var manifest = new Manifest(MediaTypes.OciManifest, config, [layer]) { Annotations = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" } };
        var bytes = manifest.ToBytes();

        using var doc = System.Text.Json.JsonDocument.Parse(bytes);
        Assert.Equal(2, doc.RootElement.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(["a", "b"], doc.RootElement.GetProperty("annotations").EnumerateObject().Select(p => p.Name)); // ordinal key order

        var parsed = Manifest.Parse(bytes, "test");
        Assert.Equal(MediaTypes.OciManifest, parsed.MediaType);
        Assert.Equal(config, parsed.Config with { Annotations = null });
        Assert.Equal(layer.Digest, Assert.Single(parsed.Layers).Digest);
        Assert.Equal(bytes, parsed.ToBytes());
    }

    [Fact]
    public void Index_is_recognised_and_manifest_is_not()
    {
        var index = new Ko.Engine.Oci.Index(MediaTypes.OciIndex, []).ToBytes();
        Assert.True(Ko.Engine.Oci.Index.LooksLikeIndex(index));
        Assert.True(Ko.Engine.Oci.Index.LooksLikeIndex("{\"manifests\":[]}"u8));
        Assert.False(Ko.Engine.Oci.Index.LooksLikeIndex("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"manifests\":[]}"u8));
    }
}

public sealed class OciLayoutBaseTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string WriteBlob(string layout, byte[] bytes)
    {
        var digest = Digest.Sha256(bytes);
        var path = Path.Combine(layout, "blobs", "sha256", digest.Hex);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return digest.ToString();
    }

    private string MakeLayout(string layerDigest, long layerSize)
    {
        var layout = _dir.Combine("layout");
        Directory.CreateDirectory(layout);
        File.WriteAllText(Path.Combine(layout, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        var config = System.Text.Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{Digest.Sha256("tar"u8)}\"]}}}}");
        var configDigest = WriteBlob(layout, config);
        var manifest = System.Text.Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},"
            + $"\"layers\":[{{\"mediaType\":\"{MediaTypes.OciLayerGzip}\",\"digest\":\"{layerDigest}\",\"size\":{layerSize}}}]}}");
        var manifestDigest = WriteBlob(layout, manifest);
        File.WriteAllText(Path.Combine(layout, "index.json"), $"{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{manifestDigest}\",\"size\":{manifest.Length}}}]}}");
        return layout;
    }

    [Fact]
    public async Task Valid_layout_opens_as_single_image_base()
    {
        var layerBytes = "layer bytes"u8.ToArray();
        var layerDigest = WriteBlob(_dir.Combine("layout"), layerBytes);
        MakeLayout(layerDigest, layerBytes.Length);

        var source = await Ko.Engine.Sources.OciLayoutBase.OpenAsync("oci:layout", _dir.Path, CancellationToken.None);

        Assert.False(source.IsMultiPlatform);
        Assert.Equal([new Platform("linux", "amd64")], source.Platforms);
        var image = await source.GetImageAsync(new Platform("linux", "amd64"), CancellationToken.None);
        Assert.Equal(layerDigest, Assert.Single(image.Layers).Descriptor.Digest.ToString());
    }

    /// <summary>
    /// A base layout is untrusted input. A layer "digest" whose algorithm is "../../outside" must not make the engine
    /// treat a file outside the layout (here DIR/../outside/evil) as a layer; the layout is invalid (KO1002).
    /// </summary>
    [Fact]
    public async Task Layer_digest_that_escapes_the_blob_directory_is_rejected()
    {
        var outside = _dir.WriteFile("outside/evil", "not a blob of this layout");
        MakeLayout("../../outside:evil", new FileInfo(outside).Length);

        var ex = await Assert.ThrowsAsync<KoException>(() => Ko.Engine.Sources.OciLayoutBase.OpenAsync("oci:layout", _dir.Path, CancellationToken.None));
        Assert.Equal(KoErrorCodes.InvalidBaseImage, ex.Code);
    }
}
