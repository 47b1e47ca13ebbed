using System.Text;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// <c>dotnet ko push --sign-key</c> against the real docker-registry: what a build wrote to an OCI layout is pushed,
/// then the index and each platform image are signed (and the SBOMs attested) as a signing build would;
/// containers/image (<see cref="CosignCheck"/>) accepts the signatures. A bad key or password fails before any push.
/// </summary>
public sealed class PushSigningTests : IClassFixture<RegistryFixture>, IDisposable
{
    private const string Password = "pw-Push-Signing-c41e";
    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("ko-pushsign");
    private readonly string _src;
    private readonly List<string> _outputs = [];

    public PushSigningTests(RegistryFixture registry)
    {
        _registry = registry;
        _src = Repo.CopyHello(_dir.Combine("hello"));
    }

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, string?> Env(string? password = Password) =>
        Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_SIGN_PASSWORD"] = password, ["KO_SIGN_KEY"] = null });

    private async Task<Repo.KoRun> KoAsync(Dictionary<string, string?> env, params string[] args)
    {
        var run = await Repo.KoAsync(env, args);
        _outputs.Add(run.Stdout + run.Stderr);
        return run;
    }

    [Fact]
    public async Task Push_with_sign_key_signs_the_index_and_each_image_and_attests_the_SBOMs_and_containers_image_accepts_them()
    {
        Assert.Equal(0, (await KoAsync(Env(), "generate-key", "--output-key-prefix", _dir.Combine("push"))).ExitCode);
        var local = await KoAsync(Env(), "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--sbom", "spdx", "--oci-layout-path", _dir.Combine("layout"));
        Assert.True(local.ExitCode == 0, local.ToString());
        var digest = local.References[0].Split('@')[1];

        var to = $"{_registry.Host}/pushsign/app";
        var push = await KoAsync(Env(), "push", "oci:" + _dir.Combine("layout"), "--to", to, "--sign-key", _dir.Combine("push.key"), "--sign-annotation", "stage=push", "--attest-sbom");
        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Equal([$"{to}@{digest}"], push.References);
        Assert.Equal(3, push.Stderr.Split('\n').Count(l => l.Contains("Signed " + to + "@", StringComparison.Ordinal))); // the index and both platform images
        Assert.Contains("Attested " + to + "@", push.Stderr);

        var regd = _dir.Combine("registries.d");
        Directory.CreateDirectory(regd);
        await File.WriteAllTextAsync(Path.Combine(regd, "default.yaml"), $"docker:\n  {_registry.Host}:\n    use-sigstore-attachments: true\n");
        Assert.Equal((0, "accepted"), await CosignCheck.RunAsync("verify", _dir.Combine("push.pub"), $"docker://{to}:latest", regd));
        var verify = await KoAsync(Env(), "verify", "--attestations", "--key", _dir.Combine("push.pub"), $"{to}@{digest}");
        Assert.True(verify.ExitCode == 0, verify.ToString());

        // The same layout pushed again with the same key: the signatures are there, nothing is appended.
        var again = await KoAsync(Env(), "push", "oci:" + _dir.Combine("layout"), "--to", to, "--sign-key", _dir.Combine("push.key"), "--sign-annotation", "stage=push");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(3, again.Stderr.Split('\n').Count(l => l.Contains("is already signed with this key", StringComparison.Ordinal)));
        AssertNoSecrets(_dir.Combine("push.key"));
    }

    [Fact]
    public async Task A_wrong_password_or_attest_sbom_without_a_key_fails_with_its_KO_code_before_anything_is_pushed()
    {
        Assert.Equal(0, (await KoAsync(Env(), "generate-key", "--output-key-prefix", _dir.Combine("bad"))).ExitCode);
        var local = await KoAsync(Env(), "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64", "--sbom", "none", "--oci-layout-path", _dir.Combine("layout"));
        Assert.True(local.ExitCode == 0, local.ToString());
        var to = $"{_registry.Host}/pushsign/bad";

        var wrong = await KoAsync(Env("not-the-password"), "push", "oci:" + _dir.Combine("layout"), "--to", to, "--sign-key", _dir.Combine("bad.key"));
        Assert.Equal((1, true), (wrong.ExitCode, wrong.Stderr.Contains("KO5002", StringComparison.Ordinal)));
        var noKey = await KoAsync(Env(), "push", "oci:" + _dir.Combine("layout"), "--to", to, "--attest-sbom");
        Assert.Equal((1, true), (noKey.ExitCode, noKey.Stderr.Contains("KO1004", StringComparison.Ordinal)));
        var noSbom = await KoAsync(Env(), "push", "oci:" + _dir.Combine("layout"), "--to", to, "--sign-key", _dir.Combine("bad.key"), "--attest-sbom");
        Assert.Equal((1, true), (noSbom.ExitCode, noSbom.Stderr.Contains("KO5013", StringComparison.Ordinal)));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var tags = await http.GetAsync($"http://{_registry.Host}/v2/pushsign/bad/tags/list");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, tags.StatusCode); // the repository was never created
        AssertNoSecrets(_dir.Combine("bad.key"));
    }

    private void AssertNoSecrets(string keyFile)
    {
        var secrets = File.ReadAllLines(keyFile).Where(l => !l.StartsWith("-----", StringComparison.Ordinal)).Prepend(Password).ToList();
        foreach (var output in _outputs)
        {
            Assert.All(secrets, s => Assert.DoesNotContain(s, output));
        }

        foreach (var file in Directory.EnumerateFiles(_registry.DataDirectory, "*", SearchOption.AllDirectories))
        {
            var text = Encoding.Latin1.GetString(File.ReadAllBytes(file));
            Assert.All(secrets, s => Assert.False(text.Contains(s, StringComparison.Ordinal), $"{file} holds a secret"));
        }
    }
}
