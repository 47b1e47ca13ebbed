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
        Assert.Equal([Name + "@sha256:a87f7ad426bfaa56f6ed5709e45b2a7cb8dd2ec9f53bf2b3ed4d4b1e15fe7544"], layout.References);
        Assert.Equal("d6959e2b97de459213a96e31c0c4f3e1e821616c6c4b4f5bd9da11f0138dffef", Sha256Of(dir.Combine("out", "index.json")));

        var archives = await Repo.KoAsync(env, "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--tarball", dir.Combine("d.tar"), "--oci-archive", dir.Combine("o.tar"));
        Assert.True(archives.ExitCode == 0, archives.ToString());
        Assert.Equal("cbde8c833492a51594d2261267fcbac8ec0c182caa19d2e3e72817b53649c566", Sha256Of(dir.Combine("d.tar")));
        Assert.Equal("541f53727dab4128757f0f56fb46bd2b77ac37c9fd2730bcd7b928bb0a1a32b6", Sha256Of(dir.Combine("o.tar")));
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
        Assert.Equal([Name + "@sha256:d231a41817cf1ed47ae9dd9674bdeb31d4e670a9cf5e61b902a34ff940d90775"], run.References);
        Assert.Equal("d4712959a5953fb8deee14c8289988832faee4ed559f744879f48d881e1b9063", Sha256Of(dir.Combine("out", "index.json")));
    }

    private static async Task RequireRecordedGoAsync()
    {
        var version = (await Tools.RunAsync("go", ["env", "GOVERSION"])).StandardOutput.Trim();
        Assert.True(version == RecordedWith, $"the golden digests were recorded with {RecordedWith}, this machine has {version}: rerecord them with this Go (and check that nothing else changed)");
    }

    private static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
