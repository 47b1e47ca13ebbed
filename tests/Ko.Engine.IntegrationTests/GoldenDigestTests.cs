using System.Security.Cryptography;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// Pins the bytes of examples/hello's outputs: a redesign of how a build runs must not change what it writes. The Go
/// binary's bytes depend on the Go toolchain, so the expected digests hold for the Go version they were recorded
/// with (Debian's golang-go); another Go version is a loud failure that names both versions, never a silent pass.
/// A deliberate change of the image bytes updates these values in the same commit and says why.
/// </summary>
public sealed class GoldenDigestTests
{
    private const string RecordedWith = "go1.19.8";
    private const string Name = "ko.local/hello-124ec4359fcc3b362d8aa16b0f28dd36";

    [Fact]
    public async Task Hello_for_two_platforms_gives_the_recorded_index_layout_and_archives()
    {
        await RequireRecordedGoAsync();
        using var dir = new TempDir("ko-golden");
        var src = Repo.CopyHello(dir.Combine("hello"));
        var env = Repo.Environment(dir.Combine("cache"));
        var layout = await Repo.KoAsync(env, "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--oci-layout-path", dir.Combine("out"));
        Assert.True(layout.ExitCode == 0, layout.ToString());
        Assert.Equal([Name + "@sha256:746a153fbd05f0ba4df3e87596194a01e9f9b7506aadae9c26c1badd02ee7454"], layout.References);
        Assert.Equal("fef3fa497a8a43680e209468eacb181c7213b858205bebf6a1f4824602d13e2b", Sha256Of(dir.Combine("out", "index.json")));

        var archives = await Repo.KoAsync(env, "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--tarball", dir.Combine("d.tar"), "--oci-archive", dir.Combine("o.tar"));
        Assert.True(archives.ExitCode == 0, archives.ToString());
        Assert.Equal("5aa70a5f63765016af60f41439d0ae29c99737525d5d2ab4372df5402099c6c6", Sha256Of(dir.Combine("d.tar")));
        Assert.Equal("e8c3ba36f424ffa8a629acae23761fd66c7eecf6866afe5716f7f3a63b4026e5", Sha256Of(dir.Combine("o.tar")));
    }

    [Fact]
    public async Task Hello_with_a_date_a_label_and_no_sbom_gives_the_recorded_image()
    {
        await RequireRecordedGoAsync();
        using var dir = new TempDir("ko-golden-dated");
        var src = Repo.CopyHello(dir.Combine("hello"));
        var env = Repo.Environment(dir.Combine("cache"), new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = "1700000000" });
        var run = await Repo.KoAsync(env, "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64", "--sbom=none", "--image-label", "a=b", "--oci-layout-path", dir.Combine("out"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal([Name + "@sha256:13ba03a055f5453840579e5a13e73b15e0595233631d0baff44c9bdca66cb4f4"], run.References);
        Assert.Equal("87303632fdfbc97c2d16c636101422aeefc3250318a1edc24145333b11ee9c5f", Sha256Of(dir.Combine("out", "index.json")));
    }

    private static async Task RequireRecordedGoAsync()
    {
        var version = (await Tools.RunAsync("go", ["env", "GOVERSION"])).StandardOutput.Trim();
        Assert.True(version == RecordedWith, $"the golden digests were recorded with {RecordedWith}, this machine has {version}: rerecord them with this Go (and check that nothing else changed)");
    }

    private static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
