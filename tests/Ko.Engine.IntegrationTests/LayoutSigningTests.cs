using System.Text.Json;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// Signatures in OCI layouts, as cosign's <c>save</c> keeps them beside the image: <c>build --push=false
/// --oci-layout-path DIR --sign-key</c> stores them (signed for the registry name under KO_DOCKER_REPO), and
/// <c>dotnet ko push oci:DIR</c> carries them to the real docker-registry, where containers/image
/// (<see cref="CosignCheck"/>) accepts them.
/// </summary>
public sealed class LayoutSigningTests : IClassFixture<RegistryFixture>, IDisposable
{
    private const string Password = "pw-Layout-Signing-8a2f";
    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("ko-layoutsign");
    private readonly string _src;

    public LayoutSigningTests(RegistryFixture registry)
    {
        _registry = registry;
        _src = Repo.CopyHello(_dir.Combine("hello"));
    }

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, string?> Env(string? repository) =>
        Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = repository, ["KO_SIGN_PASSWORD"] = Password, ["KO_SIGN_KEY"] = null });

    private async Task<string> RegistriesDAsync()
    {
        var dir = _dir.Combine("registries.d");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "default.yaml"), $"docker:\n  {_registry.Host}:\n    use-sigstore-attachments: true\n");
        return dir;
    }

    [Fact]
    public async Task A_layout_built_with_sign_key_stores_the_signatures_and_push_carries_them_so_containers_image_accepts_them()
    {
        Assert.Equal(0, (await Repo.KoAsync(Env(null), "generate-key", "--output-key-prefix", _dir.Combine("layout"))).ExitCode);
        var repository = $"{_registry.Host}/layoutsign";
        var layout = _dir.Combine("out");
        string[] build = ["build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--sbom", "spdx", "--oci-layout-path", layout, "--sign-key", _dir.Combine("layout.key"), "--attest-sbom"];
        var local = await Repo.KoAsync(Env(repository), build);
        Assert.True(local.ExitCode == 0, local.ToString());
        // A layout alone prints its path, as ko's layout publisher does; the signatures name the registry image.
        var digest = local.References[0].Split('@')[1];
        Assert.Equal($"{layout}@{digest}", local.References[0]);
        var name = $"{repository}/hello-{Ko.Engine.Publishing.Naming.Md5Hex("example.com/hello")}";

        // index.json: the image, then one signature entry per signed manifest (index + 2 images), cosign's kind annotation.
        using (var index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json"))))
        {
            var sigs = index.RootElement.GetProperty("manifests").EnumerateArray()
                .Where(m => m.TryGetProperty("annotations", out var a) && a.TryGetProperty("kind", out var k) && k.GetString() == "dev.cosignproject.cosign/sigs")
                .Select(m => m.GetProperty("annotations").GetProperty("org.opencontainers.image.ref.name").GetString()!).ToList();
            Assert.Equal(3, sigs.Count);
            Assert.Contains($"sha256-{digest[7..]}.sig", sigs);
        }

        // umoci, an independent reader, still takes the layout and lists the image and its signature entries by name.
        var listed = await Tools.RunAsync("umoci", ["ls", "--layout", layout]);
        Assert.Contains($"sha256-{digest[7..]}.sig", listed.StandardOutput);
        Assert.Contains(name[(name.LastIndexOf('/') + 1)..] + ":latest", listed.StandardOutput);

        // Building again into the same layout with the same key adds no second signature.
        Assert.Equal(0, (await Repo.KoAsync(Env(repository), build)).ExitCode);
        var stored = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json"))).RootElement.GetProperty("manifests").EnumerateArray()
            .Single(m => m.TryGetProperty("annotations", out var a) && a.TryGetProperty("org.opencontainers.image.ref.name", out var r) && r.GetString() == $"sha256-{digest[7..]}.sig");
        using (var sigManifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(layout, "blobs", "sha256", stored.GetProperty("digest").GetString()![7..]))))
        {
            Assert.Single(sigManifest.RootElement.GetProperty("layers").EnumerateArray());
        }

        var push = await Repo.KoAsync(Env(repository), "push", "oci:" + layout);
        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Equal([$"{name}@{digest}"], push.References);
        Assert.Contains("Carried 1 signature(s)", push.Stderr);
        Assert.DoesNotContain("verifiers that match the repository reject it", push.Stderr);

        var regd = await RegistriesDAsync();
        Assert.Equal((0, "accepted"), await CosignCheck.RunAsync("verify", _dir.Combine("layout.pub"), $"docker://{name}:latest", regd));
        var verify = await Repo.KoAsync(Env(null), "verify", "--attestations", "--key", _dir.Combine("layout.pub"), $"{name}@{digest}");
        Assert.True(verify.ExitCode == 0, verify.ToString());

        // A second push finds them there and appends nothing.
        var again = await Repo.KoAsync(Env(repository), "push", "oci:" + layout);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.DoesNotContain("Carried", again.Stderr);
        Assert.DoesNotContain(Password, local.Stderr + push.Stderr + again.Stderr);
    }

    [Fact]
    public async Task Signatures_pushed_to_another_name_are_carried_with_a_warning_and_rejected_there_and_a_damaged_one_stops_the_push()
    {
        Assert.Equal(0, (await Repo.KoAsync(Env(null), "generate-key", "--output-key-prefix", _dir.Combine("moved"))).ExitCode);
        var layout = _dir.Combine("out2");
        var local = await Repo.KoAsync(Env($"{_registry.Host}/planned"), "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64", "--sbom", "none", "--oci-layout-path", layout, "--sign-key", _dir.Combine("moved.key"));
        Assert.True(local.ExitCode == 0, local.ToString());
        var other = $"{_registry.Host}/elsewhere/app";
        var push = await Repo.KoAsync(Env(null), "push", "oci:" + layout, "--to", other);
        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Contains("verifiers that match the repository reject it", push.Stderr);
        var verify = await Repo.KoAsync(Env(null), "verify", "--key", _dir.Combine("moved.pub"), other + ":latest");
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("KO5009", verify.Stderr);
        Assert.Equal(1, (await CosignCheck.RunAsync("verify", _dir.Combine("moved.pub"), $"docker://{other}:latest", await RegistriesDAsync())).ExitCode);

        // Bad input: the stored signature manifest's blob altered. The push stops with KO5010 before pushing anything.
        using var index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json")));
        var sig = index.RootElement.GetProperty("manifests").EnumerateArray().Single(m => m.TryGetProperty("annotations", out var a) && a.TryGetProperty("kind", out _));
        var blob = Path.Combine(layout, "blobs", "sha256", sig.GetProperty("digest").GetString()![7..]);
        var bytes = await File.ReadAllBytesAsync(blob);
        bytes[^2] ^= 1;
        await File.WriteAllBytesAsync(blob, bytes);
        var damaged = await Repo.KoAsync(Env(null), "push", "oci:" + layout, "--to", $"{_registry.Host}/damaged/app");
        Assert.Equal(1, damaged.ExitCode);
        Assert.Contains("KO5010", damaged.Stderr);
        Assert.DoesNotContain("   at ", damaged.Stderr);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var tags = await http.GetAsync($"http://{_registry.Host}/v2/damaged/app/tags/list");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, tags.StatusCode);
    }

    [Fact]
    public async Task Sign_key_without_a_push_or_a_layout_under_a_registry_repository_is_KO1004()
    {
        Assert.Equal(0, (await Repo.KoAsync(Env(null), "generate-key", "--output-key-prefix", _dir.Combine("plain"))).ExitCode);
        var noOutput = await Repo.KoAsync(Env($"{_registry.Host}/x"), "build", ".", "-C", _src, "--push=false", "--sign-key", _dir.Combine("plain.key"));
        Assert.Equal((1, true), (noOutput.ExitCode, noOutput.Stderr.Contains("KO1004", StringComparison.Ordinal)));
        var local = await Repo.KoAsync(Env(null), "build", ".", "-C", _src, "--push=false", "--oci-layout-path", _dir.Combine("nolayout"), "--sign-key", _dir.Combine("plain.key"));
        Assert.Equal((1, true), (local.ExitCode, local.Stderr.Contains("KO1004", StringComparison.Ordinal)));
        Assert.False(Directory.Exists(_dir.Combine("nolayout")));
    }
}
