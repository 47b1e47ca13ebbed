using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace Ko.Engine.IntegrationTests;

/// <summary>Builds examples/hello once for linux/amd64 and linux/arm64 into every on-disk output.</summary>
public sealed class HelloBuildFixture : IAsyncLifetime
{
    private readonly TempDir _dir = new("ko-hello");

    public string Layout => _dir.Combine("layout");

    public string Archive => _dir.Combine("hello.oci.tar");

    public string Tarball => _dir.Combine("hello.docker.tar");

    public string Refs => _dir.Combine("refs.txt");

    public string Work => _dir.Path;

    public string Source => _dir.Combine("src");

    public Repo.KoRun Run { get; private set; } = null!;

    public string Reference => Run.References.Single();

    public string Name => Reference.Split('@')[0];

    public async Task InitializeAsync()
    {
        Repo.CopyHello(Source);
        var env = Repo.Environment(_dir.Combine("cache"));
        Run = await Repo.KoAsync(env, "build", ".", "--working-dir", Source, "--push=false", "--platform", "linux/amd64,linux/arm64",
            "--oci-layout-path", Layout, "--oci-archive", Archive, "--tarball", Tarball, "--image-refs", Refs);
        Assert.True(Run.ExitCode == 0, Run.ToString());
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class HelloImageTests(HelloBuildFixture hello) : IClassFixture<HelloBuildFixture>
{
    [Fact]
    public void Stdout_carries_only_the_reference_and_logs_go_to_stderr()
    {
        Assert.Matches(@"^ko\.local/hello-[0-9a-f]{32}@sha256:[0-9a-f]{64}$", hello.Reference);
        Assert.Contains("Built example.com/hello", hello.Run.Stderr);
        // The index, then each platform image, as ko's recorder writes --image-refs.
        var refs = File.ReadAllLines(hello.Refs);
        Assert.Equal(3, refs.Length);
        Assert.Equal(hello.Reference, refs[0]);
        Assert.All(refs, r => Assert.StartsWith(hello.Reference.Split('@')[0] + "@sha256:", r));
    }

    [Fact]
    public async Task Skopeo_sees_an_index_with_both_platforms()
    {
        var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", $"oci:{hello.Layout}:{hello.Name}:latest"]);
        using var doc = JsonDocument.Parse(raw.StandardOutput);
        Assert.Equal("application/vnd.oci.image.index.v1+json", doc.RootElement.GetProperty("mediaType").GetString());
        var platforms = doc.RootElement.GetProperty("manifests").EnumerateArray()
            .Select(m => m.GetProperty("platform").GetProperty("os").GetString() + "/" + m.GetProperty("platform").GetProperty("architecture").GetString())
            .ToList();
        Assert.Equal(["linux/amd64", "linux/arm64"], platforms);
        Assert.Equal(hello.Reference.Split('@')[1], "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raw.StandardOutput))));
    }

    [Fact]
    public async Task Umoci_unpacks_the_amd64_image_with_the_binary_and_kodata()
    {
        using var tmp = new TempDir();
        // skopeo verifies every digest while it copies the amd64 image out of the index.
        await Tools.RunAsync("skopeo", ["copy", "--override-os", "linux", "--override-arch", "amd64", $"oci:{hello.Layout}:{hello.Name}:latest", $"oci:{tmp.Combine("amd64")}:app"]);
        await Tools.RunAsync("umoci", ["unpack", "--image", $"{tmp.Combine("amd64")}:app", tmp.Combine("bundle")]);
        var rootfs = tmp.Combine("bundle", "rootfs");
        var binary = Path.Combine(rootfs, "ko-app", "hello");
        Assert.True(File.Exists(binary));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute, File.GetUnixFileMode(binary));
        Assert.Equal(File.ReadAllText(Path.Combine(Repo.HelloSource, "kodata", "greeting.txt")), File.ReadAllText(Path.Combine(rootfs, "var", "run", "ko", "greeting.txt")));
        Assert.True(File.Exists(Path.Combine(rootfs, "var", "run", "ko", "static", "index.html")));
        Assert.Contains("nonroot:x:65532", File.ReadAllText(Path.Combine(rootfs, "etc", "passwd")));

        using var config = JsonDocument.Parse(File.ReadAllText(tmp.Combine("bundle", "config.json")));
        var process = config.RootElement.GetProperty("process");
        Assert.Equal("/ko-app/hello", process.GetProperty("args")[0].GetString());
        Assert.Contains(process.GetProperty("env").EnumerateArray(), e => e.GetString() == "KO_DATA_PATH=/var/run/ko");
        Assert.Equal(65532, process.GetProperty("user").GetProperty("uid").GetInt32());
    }

    [Fact]
    public async Task The_oci_archive_loads_into_podman_and_the_image_runs()
    {
        using var storage = new TempDir("ko-podman");
        var load = await Tools.PodmanAsync(storage.Path, ["load", "-i", hello.Archive]);
        Assert.Contains($"{hello.Name}:latest", load.StandardOutput + load.StandardError);
        var run = await Tools.PodmanRunAsync(storage.Path, $"{hello.Name}:latest");
        Assert.Contains("Hello from a ko-built image!", run.StandardOutput);
        Assert.Contains(File.ReadAllText(Path.Combine(Repo.HelloSource, "kodata", "greeting.txt")).Trim(), run.StandardOutput);
    }

    [Fact]
    public async Task The_docker_archive_loads_into_podman_and_runs_the_build_machines_platform()
    {
        using var storage = new TempDir("ko-podman");
        await Tools.PodmanAsync(storage.Path, ["load", "-i", hello.Tarball]);
        var run = await Tools.PodmanRunAsync(storage.Path, $"{hello.Name}:latest");
        Assert.Contains("Hello from a ko-built image!", run.StandardOutput);
        Assert.Contains("docker-archive holds one platform", hello.Run.Stderr);
    }

    [Fact]
    public void Layers_are_kodata_then_binary_with_sorted_root_owned_entries()
    {
        var layout = hello.Layout;
        string Blob(string digest) => Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..]);
        using var index = JsonDocument.Parse(File.ReadAllBytes(Blob(hello.Reference.Split('@')[1])));
        var amd64 = index.RootElement.GetProperty("manifests").EnumerateArray().First(m => m.GetProperty("platform").GetProperty("architecture").GetString() == "amd64");
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Blob(amd64.GetProperty("digest").GetString()!)));
        var layers = manifest.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!).ToList();
        Assert.Equal(3, layers.Count);

        var kodata = ReadTar(Blob(layers[1]));
        var binary = ReadTar(Blob(layers[2]));
        // Names as ko's archive/tar writes them (pkg/build/gobuild.go): leading '/', no trailing '/' on directories.
        Assert.Equal(["/var", "/var/run", "/var/run/ko", "/var/run/ko/greeting.txt", "/var/run/ko/static", "/var/run/ko/static/index.html"], kodata.Select(e => e.Name));
        Assert.Equal(["ko-app", "/ko-app/hello"], binary.Select(e => e.Name));
        foreach (var e in kodata.Concat(binary))
        {
            Assert.Equal((0, 0), (e.Uid, e.Gid));
            Assert.Equal(Convert.ToInt32("555", 8), (int)e.Mode);
            Assert.Equal(DateTimeOffset.UnixEpoch, e.ModificationTime);
        }

        Assert.Equal("embedded:static", manifest.RootElement.GetProperty("annotations").GetProperty("org.opencontainers.image.base.name").GetString());
    }

    internal static List<(string Name, int Uid, int Gid, UnixFileMode Mode, DateTimeOffset ModificationTime)> ReadTar(string gzipPath)
    {
        using var file = File.OpenRead(gzipPath);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var list = new List<(string, int, int, UnixFileMode, DateTimeOffset)>();
        while (reader.GetNextEntry() is { } entry)
        {
            list.Add((entry.Name, entry.Uid, entry.Gid, entry.Mode, entry.ModificationTime));
        }

        return list;
    }
}
