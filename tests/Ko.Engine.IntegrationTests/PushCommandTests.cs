using Ko.Engine.Publishing;

namespace Ko.Engine.IntegrationTests;

/// <summary><c>dotnet ko push</c> against the real docker-registry: what a build wrote is published with its digest.</summary>
public sealed class PushCommandTests : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("ko-pushcmd");
    private readonly string _src;

    public PushCommandTests(RegistryFixture registry)
    {
        _registry = registry;
        _src = Repo.CopyHello(_dir.Combine("hello"));
    }

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, string?> Env(string? repository) =>
        Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = repository });

    [Fact]
    public async Task Pushing_a_layout_built_without_push_gives_the_digest_of_a_direct_build_and_push_and_a_second_push_uploads_nothing()
    {
        var local = await Repo.KoAsync(Env(null), "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--oci-layout-path", _dir.Combine("layout"));
        Assert.True(local.ExitCode == 0, local.ToString());
        var builtDigest = local.References[0].Split('@')[1];

        var repository = $"{_registry.Host}/pushed";
        var push = await Repo.KoAsync(Env(repository), "push", "oci:" + _dir.Combine("layout"), "-t", "v1", "-v");
        Assert.True(push.ExitCode == 0, push.ToString());
        var name = $"{repository}/hello-{Naming.Md5Hex("example.com/hello")}";
        Assert.Equal([$"{name}:v1@{builtDigest}"], push.References);
        Assert.Contains("Pushed", push.Stderr);

        var direct = await Repo.KoAsync(Env($"{_registry.Host}/direct"), "build", ".", "-C", _src, "--platform", "linux/amd64,linux/arm64");
        Assert.True(direct.ExitCode == 0, direct.ToString());
        Assert.Equal(builtDigest, direct.References[0].Split('@')[1]);

        // The registry serves the same bytes under the tag, and skopeo checks every blob against the manifests.
        var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", $"docker://{name}:v1"]);
        Assert.Equal(builtDigest, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raw.StandardOutput))));
        await Tools.RunAsync("skopeo", ["copy", "--all", "--src-tls-verify=false", $"docker://{name}:v1", "oci:" + _dir.Combine("copied")]);

        var again = await Repo.KoAsync(Env(repository), "push", "oci:" + _dir.Combine("layout"), "-t", "v1", "-v");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("0 blob(s) uploaded", again.Stderr);
    }

    [Fact]
    public async Task Pushing_a_layout_with_its_sboms_attaches_them_to_the_pushed_image()
    {
        var local = await Repo.KoAsync(Env(null), "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64", "--sbom", "spdx", "--oci-layout-path", _dir.Combine("sbom-layout"));
        Assert.True(local.ExitCode == 0, local.ToString());
        var to = $"{_registry.Host}/with-sbom/app";
        var refs = _dir.Combine("refs.txt");
        var push = await Repo.KoAsync(Env(null), "push", "oci:" + _dir.Combine("sbom-layout"), "--to", to, "--image-refs", refs);
        Assert.True(push.ExitCode == 0, push.ToString());
        var lines = File.ReadAllLines(refs);
        Assert.Equal(2, lines.Length);
        Assert.Equal(push.References[0], lines[0]);
        Assert.StartsWith(to + "@sha256:", lines[1]);
        var sbom = await Tools.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", $"docker://{lines[1]}"]);
        Assert.Contains("\"artifactType\":\"application/spdx+json\"", sbom.StandardOutput);
        Assert.Contains(local.References[0].Split('@')[1], sbom.StandardOutput);
        Assert.Contains("and its 1 SBOM artifact(s)", push.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("oci:missing-dir", "KO3015")]
    [InlineData("layout-without-transport", "KO3014")]
    [InlineData("oci:", "KO3014")]
    [InlineData("dir:somewhere", "KO3014")]
    public async Task A_source_that_is_missing_or_malformed_is_a_KO_error_and_nothing_is_pushed(string source, string code)
    {
        Directory.CreateDirectory(_dir.Combine("layout-without-transport"));
        var push = await Repo.KoAsync(Env($"{_registry.Host}/bad"), "push", source, "-C", _dir.Path);
        Assert.Equal(1, push.ExitCode);
        Assert.Contains(code, push.Stderr);
        Assert.Empty(push.Stdout);
        Assert.DoesNotContain("   at ", push.Stderr);
    }

    [Fact]
    public async Task Pushing_without_a_repository_or_into_ko_local_says_what_to_set()
    {
        var local = await Repo.KoAsync(Env(null), "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64", "--oci-archive", _dir.Combine("a.tar"));
        Assert.True(local.ExitCode == 0, local.ToString());
        var none = await Repo.KoAsync(Env(null), "push", "oci-archive:" + _dir.Combine("a.tar"));
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("KO1003", none.Stderr);
        var kolocal = await Repo.KoAsync(Env("ko.local"), "push", "oci-archive:" + _dir.Combine("a.tar"));
        Assert.Equal(1, kolocal.ExitCode);
        Assert.Contains("ko.local", kolocal.Stderr);
    }
}
