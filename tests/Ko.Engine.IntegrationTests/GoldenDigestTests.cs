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
        // A layout without a push prints <layout path>@digest, as ko's layout publisher.
        Assert.Equal([dir.Combine("out") + "@sha256:e599ce8914805ddfacc58b2349411259d8594266ee214689f016ac3e30bf3182"], layout.References);
        Assert.Equal("c4d8641ab8ceaa720c6a132cb3c7dc59a0b958cff58e12c1e87a302ddd1d7896", Sha256Of(dir.Combine("out", "index.json")));

        var archives = await Repo.KoAsync(env, "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--tarball", dir.Combine("d.tar"), "--oci-archive", dir.Combine("o.tar"));
        Assert.True(archives.ExitCode == 0, archives.ToString());
        Assert.Equal([Name + "@sha256:e599ce8914805ddfacc58b2349411259d8594266ee214689f016ac3e30bf3182"], archives.References);
        Assert.Equal("b4f237eddfdbaf36e367bbb25fcdcf0ddaed2ccaa1dfb73d17ac8801138e0b19", Sha256Of(dir.Combine("d.tar")));
        Assert.Equal("886a25cd78eedf845e92ac9bce45e4993d9c1e069dfb8a0896241cd60786d693", Sha256Of(dir.Combine("o.tar")));
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
        Assert.Equal([dir.Combine("out") + "@sha256:41439d2543377b1471becff1cb9944706cc39a71f8df7b6634d4c211a80e0097"], run.References);
        Assert.Equal("9ebbeaa2d1e9d877a58c2d02d2f4ee06203c61728e728e06c354be5bbfe79543", Sha256Of(dir.Combine("out", "index.json")));
    }

    private static async Task RequireRecordedGoAsync()
    {
        var version = (await Tools.RunAsync("go", ["env", "GOVERSION"])).StandardOutput.Trim();
        Assert.True(version == RecordedWith, $"the golden digests were recorded with {RecordedWith}, this machine has {version}: rerecord them with this Go (and check that nothing else changed)");
    }

    private static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
