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
        Assert.Equal([Name + "@sha256:2113f421f4222309b5371705c16a4751c184e463d2f4c7e71b29ca33c8c6a77d"], layout.References);
        Assert.Equal("0983652af05d0ee9982d60eba9eea909004893d628b437c6c5ffe0b69c5635aa", Sha256Of(dir.Combine("out", "index.json")));

        var archives = await Repo.KoAsync(env, "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--tarball", dir.Combine("d.tar"), "--oci-archive", dir.Combine("o.tar"));
        Assert.True(archives.ExitCode == 0, archives.ToString());
        Assert.Equal("944e5ced7f0b126015a8e20dfde47a3364317068528f607c883570862615758c", Sha256Of(dir.Combine("d.tar")));
        Assert.Equal("011314cf9dac6ebb13c73dce238f08d099d2016e7b4514a9a5bbbeaabf1e06e7", Sha256Of(dir.Combine("o.tar")));
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
        Assert.Equal([Name + "@sha256:75c0a7997f5294f8998949d85ccc7dc2c6fb6c89bb3a281cb01680ac0df89548"], run.References);
        Assert.Equal("d5eee137984642b13effaa29a3ca7e20f635473375c2046204466ebd7d3a9db1", Sha256Of(dir.Combine("out", "index.json")));
    }

    private static async Task RequireRecordedGoAsync()
    {
        var version = (await Tools.RunAsync("go", ["env", "GOVERSION"])).StandardOutput.Trim();
        Assert.True(version == RecordedWith, $"the golden digests were recorded with {RecordedWith}, this machine has {version}: rerecord them with this Go (and check that nothing else changed)");
    }

    private static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
