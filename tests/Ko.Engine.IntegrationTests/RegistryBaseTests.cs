using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ko.Engine.Configuration;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// Two real registries (A and B) and a two-platform base image in A: a tiny Go program on <c>embedded:static</c>,
/// built by <c>dotnet ko</c> into an OCI layout and copied to <c>A/base/static:v1</c> by skopeo.
/// </summary>
public sealed class RegistryBaseFixture : IAsyncLifetime
{
    private readonly TempDir _dir = new("ko-base");

    public RegistryFixture A { get; } = new();

    public RegistryFixture B { get; } = new();

    /// <summary><c>A/base/static:v1</c>.</summary>
    public string BaseTag => $"{A.Host}/base/static:v1";

    /// <summary>The digest of the base's index.</summary>
    public string BaseDigest { get; private set; } = string.Empty;

    /// <summary>Every distinct layer digest of the base, over both platforms.</summary>
    public IReadOnlySet<string> BaseLayers { get; private set; } = new HashSet<string>();

    public async Task InitializeAsync()
    {
        await A.InitializeAsync();
        await B.InitializeAsync();

        var src = _dir.Combine("basebin");
        Directory.CreateDirectory(src);
        await File.WriteAllTextAsync(Path.Combine(src, "go.mod"), "module example.com/basebin\n\ngo 1.19\n");
        await File.WriteAllTextAsync(Path.Combine(src, "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"the base\") }\n");
        var layout = _dir.Combine("layout");
        var env = Repo.Environment(_dir.Combine("cache"));
        var run = await Repo.KoAsync(env, "build", ".", "-C", src, "--push=false", "--bare", "-t", "base", "--platform", "linux/amd64,linux/arm64", "--oci-layout-path", layout);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException("building the base failed: " + run);
        }

        await Tools.RunAsync("skopeo", ["copy", "--all", "--dest-tls-verify=false", $"oci:{layout}:ko.local:base", $"docker://{BaseTag}"]);
        var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", $"docker://{BaseTag}"]);
        BaseDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(raw.StandardOutput)));
        var layers = new HashSet<string>(StringComparer.Ordinal);
        using var index = JsonDocument.Parse(raw.StandardOutput);
        foreach (var child in index.RootElement.GetProperty("manifests").EnumerateArray())
        {
            var manifest = await Tools.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", $"docker://{A.Host}/base/static@{child.GetProperty("digest").GetString()}"]);
            using var doc = JsonDocument.Parse(manifest.StandardOutput);
            foreach (var layer in doc.RootElement.GetProperty("layers").EnumerateArray())
            {
                layers.Add(layer.GetProperty("digest").GetString()!);
            }
        }

        BaseLayers = layers;
    }

    public async Task DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>Base images read from a registry: platform matching, cross-repository mounts, cross-registry streaming.</summary>
public sealed class RegistryBaseTests : IClassFixture<RegistryBaseFixture>, IDisposable
{
    // The app's own blobs for two platforms: one kodata layer (the same for both), two binary layers, two configs.
    private const int AppBlobsForTwoPlatforms = 5;

    private readonly RegistryBaseFixture _base;
    private readonly TempDir _dir = new("ko-base-test");
    private readonly string _src;

    public RegistryBaseTests(RegistryBaseFixture fixture)
    {
        _base = fixture;
        _src = Repo.CopyHello(_dir.Combine("hello"));
    }

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, string?> Env(string? repository = null) =>
        Repo.Environment(_dir.Combine("cache"), repository is null ? null : new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = repository });

    /// <summary>Builds and pushes examples/hello; <paramref name="platforms"/> null means linux/amd64 and linux/arm64.</summary>
    private Task<KoBuildResult> BuildAsync(string baseImage, string repository, IReadOnlyList<string>? platforms = null) =>
        new KoEngine().BuildAsync(new KoBuildOptions
        {
            ImportPaths = ["."],
            WorkingDirectory = _src,
            BaseImage = baseImage,
            Platforms = platforms ?? ["linux/amd64", "linux/arm64"],
            Environment = Env(repository),
        });

    [Fact]
    public async Task Base_layers_in_the_same_registry_are_mounted_not_uploaded_and_skopeo_verifies_the_result()
    {
        Assert.True(_base.BaseLayers.Count >= 3, string.Join(", ", _base.BaseLayers));
        var result = await BuildAsync(_base.BaseTag, $"{_base.A.Host}/team");
        var stats = result.Statistics;
        Assert.Equal(AppBlobsForTwoPlatforms, stats.BlobsUploaded);
        Assert.Equal(_base.BaseLayers.Count, stats.BlobsMounted);
        Assert.Equal(0, stats.BlobsSkipped);

        var image = Assert.Single(result.Images);
        var reference = $"{image.Name}@{image.Digest}";
        var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", $"docker://{reference}"]);
        using (var index = JsonDocument.Parse(raw.StandardOutput))
        {
            var annotations = index.RootElement.GetProperty("annotations");
            Assert.Equal(_base.BaseTag, annotations.GetProperty("org.opencontainers.image.base.name").GetString());
            Assert.Equal(_base.BaseDigest, annotations.GetProperty("org.opencontainers.image.base.digest").GetString());
        }

        // Every base layer is in the pushed image, and skopeo checks every blob's digest and size.
        var amd64 = await Tools.RunAsync("skopeo", ["inspect", "--tls-verify=false", "--override-arch", "amd64", $"docker://{reference}"]);
        using (var doc = JsonDocument.Parse(amd64.StandardOutput))
        {
            var layers = doc.RootElement.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!).ToList();
            Assert.Equal(5, layers.Count);
        }

        await Tools.RunAsync("skopeo", ["copy", "--all", "--src-tls-verify=false", $"docker://{reference}", $"oci:{_dir.Combine("copy")}:x"]);

        // Into another repository of the same registry: only base layers are mounted, the app's are uploaded.
        var again = await BuildAsync(_base.BaseTag, $"{_base.A.Host}/other");
        Assert.Equal(AppBlobsForTwoPlatforms, again.Statistics.BlobsUploaded);
        Assert.Equal(_base.BaseLayers.Count, again.Statistics.BlobsMounted);

        // And the same push once more: everything is there already.
        var noop = await BuildAsync(_base.BaseTag, $"{_base.A.Host}/other");
        Assert.Equal(0, noop.Statistics.BlobsUploaded);
        Assert.Equal(0, noop.Statistics.BlobsMounted);
        Assert.Equal(AppBlobsForTwoPlatforms + _base.BaseLayers.Count, noop.Statistics.BlobsSkipped);
    }

    [Fact]
    public async Task A_base_by_digest_works_and_is_then_read_from_the_cache_without_the_network()
    {
        var byDigest = $"{_base.A.Host}/base/static@{_base.BaseDigest}";
        var run = await Repo.KoAsync(Env($"{_base.A.Host}/digest"), "build", "-C", _src, "--base-image", byDigest, "--platform", "linux/amd64,linux/arm64", ".");
        Assert.True(run.ExitCode == 0, run.ToString());
        var reference = Assert.Single(run.References);
        await Tools.RunAsync("skopeo", ["copy", "--all", "--src-tls-verify=false", $"docker://{reference}", $"oci:{_dir.Combine("copy")}:x"]);

        // The same digest at a port where nothing listens: the manifests and configs come from the cache, and
        // nothing reads the layers when nothing is written or pushed.
        var dead = $"127.0.0.1:{RegistryFixture.FreePort()}/base/static@{_base.BaseDigest}";
        var cached = await Repo.KoAsync(Env(), "build", "-C", _src, "--base-image", dead, "--platform", "linux/amd64,linux/arm64", "--push=false", ".");
        Assert.True(cached.ExitCode == 0, cached.ToString());
    }

    [Fact]
    public async Task Platform_all_builds_exactly_the_platforms_of_the_base()
    {
        var layout = _dir.Combine("all");
        var run = await Repo.KoAsync(Env(), "build", "-C", _src, "--base-image", _base.BaseTag, "--platform", "all", "--push=false", "--oci-layout-path", layout, ".");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var top = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        var indexDigest = top.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", indexDigest["sha256:".Length..])));
        var platforms = index.RootElement.GetProperty("manifests").EnumerateArray()
            .Select(m => m.GetProperty("platform").GetProperty("os").GetString() + "/" + m.GetProperty("platform").GetProperty("architecture").GetString())
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(["linux/amd64", "linux/arm64"], platforms);

        // The layout holds the base layers too: they were streamed from the registry, and skopeo verifies them.
        await Tools.RunAsync("skopeo", ["copy", "--all", $"oci:{layout}", $"oci:{_dir.Combine("copy")}:x"]);
    }

    [Fact]
    public async Task Base_layers_from_another_registry_are_streamed_across_and_skopeo_verifies_the_result()
    {
        var result = await BuildAsync(_base.BaseTag, $"{_base.B.Host}/team");
        var stats = result.Statistics;
        Assert.Equal(AppBlobsForTwoPlatforms + _base.BaseLayers.Count, stats.BlobsUploaded);
        Assert.Equal(0, stats.BlobsMounted);
        var image = Assert.Single(result.Images);
        Assert.StartsWith(_base.B.Host + "/", image.Name);
        await Tools.RunAsync("skopeo", ["copy", "--all", "--src-tls-verify=false", $"docker://{image.Name}@{image.Digest}", $"oci:{_dir.Combine("copy")}:x"]);
    }

    [Fact]
    public async Task A_single_platform_base_offers_its_own_platform()
    {
        // One platform of the base, copied as a plain manifest.
        var single = $"{_base.A.Host}/base/single:v1";
        await Tools.RunAsync("skopeo", ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--override-arch", "arm64", $"docker://{_base.BaseTag}", $"docker://{single}"]);
        var result = await BuildAsync(single, $"{_base.A.Host}/single", platforms: []);
        var image = Assert.Single(result.Images);
        Assert.Equal("linux/arm64", Assert.Single(image.Platforms).ToString());
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", image.MediaType);
    }

    [Fact]
    public async Task Attestation_entries_of_an_index_are_not_platforms()
    {
        // The base's index plus an unknown/unknown entry, as BuildKit writes for attestations, put by hand.
        var repository = $"{_base.A.Host}/base/attested";
        await Tools.RunAsync("skopeo", ["copy", "--all", "--src-tls-verify=false", "--dest-tls-verify=false", $"docker://{_base.BaseTag}", $"docker://{repository}:plain"]);
        var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", $"docker://{repository}:plain"]);
        var index = System.Text.Json.Nodes.JsonNode.Parse(raw.StandardOutput)!.AsObject();
        var manifests = index["manifests"]!.AsArray();
        var attestation = manifests[0]!.DeepClone().AsObject();
        attestation["platform"] = new System.Text.Json.Nodes.JsonObject { ["architecture"] = "unknown", ["os"] = "unknown" };
        attestation["annotations"] = new System.Text.Json.Nodes.JsonObject { ["vnd.docker.reference.type"] = "attestation-manifest" };
        manifests.Add(attestation);
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(index.ToJsonString()));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/vnd.oci.image.index.v1+json");
            using var put = await http.PutAsync($"http://{_base.A.Host}/v2/base/attested/manifests/v1", content);
            Assert.True(put.IsSuccessStatusCode, $"{(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        }

        var run = await Repo.KoAsync(Env(), "build", "-C", _src, "--base-image", $"{repository}:v1", "--platform", "all", "--push=false", ".");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("linux/amd64,linux/arm64", run.Stderr);
        Assert.DoesNotContain("unknown", run.Stderr);
    }

    [Fact]
    public async Task A_missing_base_tag_fails_with_KO3003_naming_the_reference()
    {
        var missing = $"{_base.A.Host}/base/static:missing";
        var run = await Repo.KoAsync(Env(), "build", "-C", _src, "--base-image", missing, "--platform", "linux/amd64", "--push=false", ".");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("KO3003", run.Stderr);
        Assert.Contains(missing, run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
    }
}
