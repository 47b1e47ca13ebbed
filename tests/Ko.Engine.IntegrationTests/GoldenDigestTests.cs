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
        Assert.Equal([Name + "@sha256:b8a3879737a89e64f1c32a276e45e215a5360c666c2327f5591eb41f7f07eea4"], layout.References);
        Assert.Equal("78f7890bc22bc46e0432b596462db0014cde0cf906210378340012532c6c7f73", Sha256Of(dir.Combine("out", "index.json")));

        var archives = await Repo.KoAsync(env, "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--tarball", dir.Combine("d.tar"), "--oci-archive", dir.Combine("o.tar"));
        Assert.True(archives.ExitCode == 0, archives.ToString());
        Assert.Equal("d09f363aa285af833ffb0a16868d6c73ec18ca379e9e4f332ff5e2c17abe3fc3", Sha256Of(dir.Combine("d.tar")));
        Assert.Equal("6f25856f1ee0f73c82a5fd7ce099d0e974aec5f59b9e3695b496ff32a2aca85e", Sha256Of(dir.Combine("o.tar")));
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
        Assert.Equal([Name + "@sha256:9b3786f3a5c0883065403e3a596fc2225f5d46b83496e0c966138bed6f4453bf"], run.References);
        Assert.Equal("96d17ef1a4c281f2adeaa7f0466fbfca82970001f698610b5205cf4df1eca5a9", Sha256Of(dir.Combine("out", "index.json")));
    }

    private static async Task RequireRecordedGoAsync()
    {
        var version = (await Tools.RunAsync("go", ["env", "GOVERSION"])).StandardOutput.Trim();
        Assert.True(version == RecordedWith, $"the golden digests were recorded with {RecordedWith}, this machine has {version}: rerecord them with this Go (and check that nothing else changed)");
    }

    private static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
