using System.Text.Json;
using Ko.Engine.Oci;
using Ko.Engine.Registry;
using Ko.Engine.Sources;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// Every image source reads back what this tool's build writes (an OCI layout, an OCI archive, a docker archive)
/// and what skopeo and umoci write, with the digest the writer gave it; every layer streams and verifies. Our docker
/// archive still loads into podman and is still read by skopeo.
/// </summary>
public sealed class ImageSourceTests : IClassFixture<ImageSourceTests.Built>
{
    private readonly Built _built;

    public ImageSourceTests(Built built) => _built = built;

    /// <summary>examples/hello for two platforms, written once as a layout, an OCI archive and a docker archive.</summary>
    public sealed class Built : IAsyncLifetime
    {
        public TempDir Dir { get; } = new("ko-sources");

        public string Layout => Dir.Combine("out");

        public string OciArchive => Dir.Combine("o.tar");

        public string DockerArchive => Dir.Combine("d.tar");

        public string Name { get; private set; } = string.Empty;

        public Digest IndexDigest { get; private set; }

        public async Task InitializeAsync()
        {
            var src = Repo.CopyHello(Dir.Combine("hello"));
            var env = Repo.Environment(Dir.Combine("cache"));
            var run = await Repo.KoAsync(env, "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--oci-layout-path", Layout, "--oci-archive", OciArchive, "--tarball", DockerArchive);
            Assert.True(run.ExitCode == 0, run.ToString());
            var reference = Assert.Single(run.References);
            Name = reference.Split('@')[0];
            IndexDigest = Digest.Parse(reference.Split('@')[1]);
        }

        public Task DisposeAsync()
        {
            Dir.Dispose();
            return Task.CompletedTask;
        }
    }

    private static async Task<IArtifact> ReadAsync(string spec)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var source = await ImageSources.OpenAsync(spec, "/", () => new RegistryOptions(), null, null, timeout.Token);
        var artifact = await source.ReadAsync(timeout.Token);
        foreach (var image in artifact.Images)
        {
            foreach (var layer in image.Layers)
            {
                await using var stream = await layer.OpenCompressedAsync(timeout.Token);
                await stream.CopyToAsync(Stream.Null, timeout.Token);
            }
        }

        return artifact;
    }

    private static Digest ChildDigest(IArtifact index, string architecture) =>
        index.Images.Single(i => i.Platform.Architecture == architecture).Digest;

    [Fact]
    public async Task The_layout_and_the_oci_archive_read_back_as_the_built_index()
    {
        foreach (var spec in new[] { $"oci:{_built.Layout}", $"oci:{_built.Layout}:{_built.Name}:latest", $"oci-archive:{_built.OciArchive}", $"oci-archive:{_built.OciArchive}:{_built.Name}:latest" })
        {
            var artifact = await ReadAsync(spec);
            Assert.Equal(_built.IndexDigest, artifact.Digest);
            Assert.Equal(["amd64", "arm64"], artifact.Images.Select(i => i.Platform.Architecture));
            Assert.Equal(Digest.Sha256(artifact.RootBytes.Span), artifact.Digest);
        }
    }

    [Fact]
    public async Task The_docker_archive_reads_back_as_the_built_machines_image_with_its_digest()
    {
        var index = await ReadAsync($"oci:{_built.Layout}");
        var image = await ReadAsync($"docker-archive:{_built.DockerArchive}");
        var named = await ReadAsync($"docker-archive:{_built.DockerArchive}:{_built.Name}:latest");

        Assert.IsAssignableFrom<IImage>(image);
        Assert.Equal(ChildDigest(index, Platform.Host().Architecture), image.Digest);
        Assert.Equal(image.Digest, named.Digest);
    }

    [Fact]
    public async Task The_docker_archive_still_loads_into_podman_and_skopeo_reads_it()
    {
        using var storage = new TempDir("ko-podman");
        var load = await Tools.PodmanAsync(storage.Path, ["load", "-i", _built.DockerArchive]);
        Assert.Contains($"{_built.Name}:latest", load.StandardOutput + load.StandardError);
        var run = await Tools.PodmanRunAsync(storage.Path, $"{_built.Name}:latest");
        Assert.Contains("Hello from a ko-built image!", run.StandardOutput);

        var image = (IImage)await ReadAsync($"docker-archive:{_built.DockerArchive}");
        using var inspect = JsonDocument.Parse((await Tools.RunAsync("skopeo", ["inspect", "--raw", $"docker-archive:{_built.DockerArchive}"])).StandardOutput);
        Assert.Equal(image.Manifest.Config.Digest.ToString(), inspect.RootElement.GetProperty("config").GetProperty("digest").GetString());
        Assert.Equal(image.Layers.Count, inspect.RootElement.GetProperty("layers").GetArrayLength());
    }

    [Fact]
    public async Task Layouts_and_archives_skopeo_writes_read_back_with_the_same_digests()
    {
        using var dir = new TempDir("ko-sources-skopeo");
        var from = $"oci:{_built.Layout}:{_built.Name}:latest";
        await Tools.RunAsync("skopeo", ["copy", "--all", from, $"oci:{dir.Combine("layout")}:v1"]);
        await Tools.RunAsync("skopeo", ["copy", "--all", from, $"oci-archive:{dir.Combine("o.tar")}:v1"]);
        await Tools.RunAsync("skopeo", ["copy", from, $"docker-archive:{dir.Combine("d.tar")}:example.com/hello:v1"]);

        Assert.Equal(_built.IndexDigest, (await ReadAsync($"oci:{dir.Combine("layout")}:v1")).Digest);
        Assert.Equal(_built.IndexDigest, (await ReadAsync($"oci-archive:{dir.Combine("o.tar")}")).Digest);

        // skopeo's docker archive has no OCI parts and uncompressed layers: the image is rebuilt from manifest.json,
        // with the same config, and layers whose digests are their diff_ids (as skopeo inspect describes them).
        var built = (await ReadAsync($"oci:{_built.Layout}")).Images.Single(i => i.Platform == Platform.Host());
        var rebuilt = (IImage)await ReadAsync($"docker-archive:{dir.Combine("d.tar")}:example.com/hello:v1");
        Assert.Equal(MediaTypes.DockerManifest, rebuilt.MediaType);
        Assert.Equal(built.ConfigBytes.ToArray(), rebuilt.ConfigBytes.ToArray());
        Assert.Equal(built.Layers.Select(l => l.DiffId), rebuilt.Layers.Select(l => l.Descriptor.Digest));
        using var inspect = JsonDocument.Parse((await Tools.RunAsync("skopeo", ["inspect", "--raw", $"docker-archive:{dir.Combine("d.tar")}"])).StandardOutput);
        Assert.Equal(
            inspect.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()),
            rebuilt.Layers.Select(l => l.Descriptor.Digest.ToString()));
    }

    [Fact]
    public async Task A_layout_umoci_rewrote_reads_back_with_the_digest_its_index_names()
    {
        using var dir = new TempDir("ko-sources-umoci");
        var layout = dir.Combine("layout");
        await Tools.RunAsync("skopeo", ["copy", $"oci:{_built.Layout}:{_built.Name}:latest", $"oci:{layout}:v1"]);
        await Tools.RunAsync("umoci", ["config", "--image", $"{layout}:v1", "--tag", "v2", "--config.label", "org.example/by=umoci"]);

        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        var v2 = index.RootElement.GetProperty("manifests").EnumerateArray()
            .Single(m => m.GetProperty("annotations").GetProperty(AnnotationKeys.RefName).GetString() == "v2")
            .GetProperty("digest").GetString();
        var artifact = (IImage)await ReadAsync($"oci:{layout}:v2");
        Assert.Equal(v2, artifact.Digest.ToString());
        Assert.Contains("org.example/by", System.Text.Encoding.UTF8.GetString(artifact.ConfigBytes.Span), StringComparison.Ordinal);
        Assert.Equal((await ReadAsync($"oci:{layout}:v1")).Digest, ChildDigest(await ReadAsync($"oci:{_built.Layout}"), Platform.Host().Architecture));
    }

    [Fact]
    public async Task A_registry_source_reads_the_index_by_tag_and_by_digest_with_every_child()
    {
        await using var registry = await RegistryServer.StartAsync();
        await Tools.RunAsync("skopeo", ["copy", "--all", "--dest-tls-verify=false", $"oci:{_built.Layout}:{_built.Name}:latest", $"docker://{registry.Host}/team/hello:v1"]);
        var layout = await ReadAsync($"oci:{_built.Layout}");

        foreach (var spec in new[] { $"{registry.Host}/team/hello:v1", $"docker://{registry.Host}/team/hello@{_built.IndexDigest}" })
        {
            var artifact = await ReadAsync(spec);
            Assert.Equal(_built.IndexDigest, artifact.Digest);
            Assert.Equal(layout.Images.Select(i => i.Digest), artifact.Images.Select(i => i.Digest));
            Assert.All(artifact.Images.SelectMany(i => i.Layers), l => Assert.IsType<Ko.Engine.Images.RemoteLayer>(l));
        }

        var missing = await Assert.ThrowsAsync<KoException>(() => ReadAsync($"{registry.Host}/team/hello:nope"));
        Assert.Equal(KoErrorCodes.BaseImageUnreadable, missing.Code);
    }

    [Fact]
    public async Task What_podman_saves_reads_back_with_the_built_config_and_layers()
    {
        using var storage = new TempDir("ko-podman");
        await Tools.PodmanAsync(storage.Path, ["load", "-i", _built.DockerArchive]);
        var saved = storage.Combine("saved.tar");
        var savedOci = storage.Combine("saved-oci.tar");
        await Tools.PodmanAsync(storage.Path, ["save", "-o", saved, $"{_built.Name}:latest"]);
        await Tools.PodmanAsync(storage.Path, ["save", "--format", "oci-archive", "-o", savedOci, $"{_built.Name}:latest"]);

        var built = (IImage)await ReadAsync($"docker-archive:{_built.DockerArchive}");
        foreach (var spec in new[] { $"docker-archive:{saved}", $"oci-archive:{savedOci}" })
        {
            var image = Assert.IsAssignableFrom<IImage>(await ReadAsync(spec));
            Assert.Equal(built.ConfigBytes.ToArray(), image.ConfigBytes.ToArray());
            Assert.Equal(built.Layers.Select(l => l.DiffId), image.Layers.Select(l => l.DiffId));
        }
    }
}
