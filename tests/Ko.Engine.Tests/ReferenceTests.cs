using Ko.Engine.Oci;
using Ko.Engine.Publishing;
using Ko.Engine.References;
using Ko.Engine.Registry;
using Ko.Engine.Sinks;

namespace Ko.Engine.Tests;

public class ReferenceTests
{
    private const string Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Theory]
    [InlineData("alpine", "docker.io", "library/alpine", null, "docker.io/library/alpine")]
    [InlineData("alpine:3.20", "docker.io", "library/alpine", "3.20", "docker.io/library/alpine:3.20")]
    [InlineData("team/app", "docker.io", "team/app", null, "docker.io/team/app")]
    [InlineData("docker.io/alpine", "docker.io", "library/alpine", null, "docker.io/library/alpine")]
    [InlineData("index.docker.io/library/alpine:edge", "docker.io", "library/alpine", "edge", "docker.io/library/alpine:edge")]
    [InlineData("localhost/app", "localhost", "app", null, "localhost/app")]
    [InlineData("localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1", "localhost:5000/team/app:v1")]
    [InlineData("127.0.0.1:5000/base/static:v1", "127.0.0.1:5000", "base/static", "v1", "127.0.0.1:5000/base/static:v1")]
    [InlineData("[::1]:5000/x", "[::1]:5000", "x", null, "[::1]:5000/x")]
    [InlineData("ghcr.io/a/b/c", "ghcr.io", "a/b/c", null, "ghcr.io/a/b/c")]
    [InlineData("cgr.dev/chainguard/static:latest", "cgr.dev", "chainguard/static", "latest", "cgr.dev/chainguard/static:latest")]
    [InlineData("registry.example/my_app/sub-dir/x__y", "registry.example", "my_app/sub-dir/x__y", null, "registry.example/my_app/sub-dir/x__y")]
    [InlineData("Registry.Example/app", "Registry.Example", "app", null, "Registry.Example/app")]
    [InlineData("a/b:Tag_1.0-rc", "docker.io", "a/b", "Tag_1.0-rc", "docker.io/a/b:Tag_1.0-rc")]
    public void References_are_normalised_as_docker_does(string text, string registry, string repository, string? tag, string normalised)
    {
        var reference = ImageReference.Parse(text);
        Assert.Equal(registry, reference.Registry);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(tag, reference.Tag);
        Assert.Null(reference.Digest);
        Assert.Equal(normalised, reference.ToString());
        Assert.Equal(tag ?? "latest", reference.ManifestReference);
    }

    [Fact]
    public void Docker_Hub_is_spoken_to_at_registry_1()
    {
        Assert.Equal("registry-1.docker.io", ImageReference.Parse("alpine").ApiHost);
        Assert.Equal("registry-1.docker.io", ImageReference.Parse("docker.io/team/app").ApiHost);
        Assert.Equal("127.0.0.1:5000", ImageReference.Parse("127.0.0.1:5000/x").ApiHost);
        Assert.True(ImageReference.SameRegistry("docker.io", "index.docker.io"));
        Assert.True(ImageReference.SameRegistry("docker.io", "registry-1.docker.io"));
        Assert.False(ImageReference.SameRegistry("127.0.0.1:5000", "127.0.0.1:5001"));
    }

    [Fact]
    public void Digests_are_read_with_or_without_a_tag()
    {
        var byDigest = ImageReference.Parse($"127.0.0.1:5000/base/static@sha256:{Hex}");
        Assert.Null(byDigest.Tag);
        Assert.Equal(Digest.Parse($"sha256:{Hex}"), byDigest.Digest);
        Assert.Equal($"sha256:{Hex}", byDigest.ManifestReference);
        Assert.Equal($"127.0.0.1:5000/base/static@sha256:{Hex}", byDigest.ToString());

        var both = ImageReference.Parse($"alpine:3@sha256:{Hex}");
        Assert.Equal("3", both.Tag);
        Assert.Equal($"sha256:{Hex}", both.ManifestReference);
        Assert.Equal($"docker.io/library/alpine:3@sha256:{Hex}", both.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData(" alpine")]
    [InlineData("Alpine")]
    [InlineData("registry.example/Team/app")]
    [InlineData("alpine:")]
    [InlineData("alpine:.bad")]
    [InlineData("alpine:-bad")]
    [InlineData("alpine:a/b")]
    [InlineData("alpine@sha256:abc")]
    [InlineData("alpine@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("alpine@")]
    [InlineData("registry.example/")]
    [InlineData("registry.example//app")]
    [InlineData("registry.example/app-")]
    [InlineData("registry.example/-app")]
    [InlineData("registry.example/a..b")]
    [InlineData("registry.example:0/app")]
    [InlineData("registry.example:99999/app")]
    [InlineData("registry.example:port/app")]
    [InlineData("-bad.example/app")]
    [InlineData("[::1/app")]
    [InlineData(":5000/app")]
    public void Malformed_references_are_refused_with_a_reason(string text)
    {
        Assert.False(ImageReference.TryParse(text, out _, out var error));
        Assert.NotEmpty(error);
        var ex = Assert.Throws<KoException>(() => ImageReference.Parse(text));
        Assert.Equal(KoErrorCodes.InvalidBaseImage, ex.Code);
    }

    [Theory]
    [InlineData("alpine@latest")]
    [InlineData("registry.example/app@sha1:abc")]
    public void An_at_sign_without_a_digest_says_how_to_write_a_digest(string text)
    {
        Assert.False(ImageReference.TryParse(text, out _, out var error));
        Assert.Contains("not followed by a digest", error);
        Assert.Contains("@sha256:", error);
    }

    [Fact]
    public void Overlong_tags_and_names_are_refused()
    {
        Assert.False(ImageReference.TryParse("app:" + new string('t', 129), out _, out _));
        Assert.True(ImageReference.TryParse("app:" + new string('t', 128), out _, out _));
        Assert.False(ImageReference.TryParse("registry.example/" + new string('a', 240), out _, out _));
    }

    [Theory]
    [InlineData("team/app", "registry-1.docker.io", "team/app")]
    [InlineData("hello", "registry-1.docker.io", "library/hello")]
    [InlineData("127.0.0.1:5000/team/hello-abc", "127.0.0.1:5000", "team/hello-abc")]
    [InlineData("localhost/app", "localhost", "app")]
    public void Repositories_without_a_registry_are_on_Docker_Hub(string name, string host, string repository)
    {
        Assert.Equal((host, repository), RegistryPublisher.ParseName(name));
    }

    [Theory]
    [InlineData("registry.example:5000")]
    [InlineData("localhost")]
    [InlineData("registry.example/team:v1")]
    [InlineData("Team/App")]
    public void Repositories_that_name_only_a_registry_or_carry_a_tag_are_refused(string name)
    {
        var ex = Assert.Throws<KoException>(() => RegistryPublisher.ValidateRepository(name));
        Assert.Equal(KoErrorCodes.InvalidOption, ex.Code);
        Assert.Contains(name, ex.Message);
    }

    [Fact]
    public async Task A_verifying_stream_passes_intact_bytes_and_rejects_altered_ones()
    {
        var bytes = "hello, registry"u8.ToArray();
        var digest = Digest.Sha256(bytes);

        using (var ok = new VerifyingStream(new MemoryStream(bytes), new MemoryStream(), digest, bytes.Length, "test"))
        using (var copy = new MemoryStream())
        {
            await ok.CopyToAsync(copy);
            Assert.Equal(bytes, copy.ToArray());
        }

        var altered = (byte[])bytes.Clone();
        altered[0] ^= 1;
        using (var bad = new VerifyingStream(new MemoryStream(altered), new MemoryStream(), digest, bytes.Length, "test"))
        {
            var ex = await Assert.ThrowsAsync<KoException>(() => bad.CopyToAsync(Stream.Null));
            Assert.Equal(KoErrorCodes.BaseImageUnreadable, ex.Code);
            Assert.Contains(digest.ToString(), ex.Message);
        }

        using (var shortRead = new VerifyingStream(new MemoryStream(bytes[..5]), new MemoryStream(), digest, bytes.Length, "test"))
        {
            var ex = await Assert.ThrowsAsync<KoException>(() => shortRead.CopyToAsync(Stream.Null));
            Assert.Contains("5 bytes", ex.Message);
        }
    }

    [Theory]
    [InlineData("{\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":[]}", MediaTypes.DockerManifestList)]
    [InlineData("{\"schemaVersion\":2,\"manifests\":[]}", MediaTypes.OciIndex)]
    [InlineData("{\"schemaVersion\":2,\"config\":{}}", MediaTypes.OciManifest)]
    public void A_manifest_without_a_content_type_is_known_by_its_shape(string json, string mediaType)
    {
        Assert.Equal(mediaType, RegistryClient.MediaTypeOf(System.Text.Encoding.UTF8.GetBytes(json), "test"));
    }
}
