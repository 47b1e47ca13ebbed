using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Ko.Engine.Configuration;
using Ko.Engine.Publishing;

namespace Ko.Engine.IntegrationTests;


/// <summary>Pushing to a plain-HTTP loopback registry, checked with skopeo.</summary>
public sealed class RegistryPushTests : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("ko-push");
    private readonly string _src;

    public RegistryPushTests(RegistryFixture registry)
    {
        _registry = registry;
        _src = Repo.CopyHello(_dir.Combine("hello"));
    }

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, string?> Env(string repository) =>
        Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = repository });

    [Fact]
    public async Task Pushes_a_multi_platform_image_that_skopeo_can_copy_and_a_second_push_uploads_nothing()
    {
        var repository = $"{_registry.Host}/team";
        var env = Env(repository);
        var run = await Repo.KoAsync(env, "build", "-C", _src, "--platform", "linux/amd64,linux/arm64", ".");
        Assert.True(run.ExitCode == 0, run.ToString());
        var reference = Assert.Single(run.References);
        var expectedName = $"{repository}/hello-{Naming.Md5Hex("example.com/hello")}";
        Assert.StartsWith(expectedName + "@sha256:", reference);
        var digest = reference[(reference.IndexOf('@') + 1)..];

        // The index as the registry serves it: both platforms, and its bytes hash to the printed digest.
        var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", $"docker://{reference}"]);
        var rawBytes = System.Text.Encoding.UTF8.GetBytes(raw.StandardOutput);
        Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(rawBytes)));
        using (var index = JsonDocument.Parse(rawBytes))
        {
            Assert.Equal("application/vnd.oci.image.index.v1+json", index.RootElement.GetProperty("mediaType").GetString());
            var platforms = index.RootElement.GetProperty("manifests").EnumerateArray()
                .Select(m => m.GetProperty("platform").GetProperty("os").GetString() + "/" + m.GetProperty("platform").GetProperty("architecture").GetString())
                .Order(StringComparer.Ordinal)
                .ToList();
            Assert.Equal(["linux/amd64", "linux/arm64"], platforms);
        }

        // The tag points at the index too.
        var tagged = await Tools.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", $"docker://{expectedName}:latest"]);
        Assert.Equal(raw.StandardOutput, tagged.StandardOutput);

        // skopeo copy checks every blob's digest and size against the manifests.
        await Tools.RunAsync("skopeo", ["copy", "--all", "--src-tls-verify=false", $"docker://{reference}", $"oci:{_dir.Combine("copy")}:x"]);
        await Tools.RunAsync("skopeo", ["copy", "--src-tls-verify=false", "--override-arch", "arm64", $"docker://{reference}", $"oci:{_dir.Combine("copy-arm64")}:x"]);

        // The same unchanged build again, through the engine: nothing to upload, same digest.
        var result = await new KoEngine().BuildAsync(new KoBuildOptions
        {
            ImportPaths = ["."],
            WorkingDirectory = _src,
            Platforms = ["linux/amd64", "linux/arm64"],
            Environment = env,
        });
        Assert.Equal(digest, result.Images[0].Digest.ToString());
        Assert.Equal(0, result.Statistics.BlobsUploaded);
        Assert.True(result.Statistics.BlobsSkipped > 0, result.Statistics.ToString());
    }

    [Fact]
    public async Task Podman_pulls_the_pushed_amd64_image_and_runs_it()
    {
        var run = await Repo.KoAsync(Env($"{_registry.Host}/team"), "build", "-C", _src, "--platform", "linux/amd64,linux/arm64", ".");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var storage = new TempDir("ko-podman");
        await Tools.PodmanAsync(storage.Path, ["pull", "--tls-verify=false", "--arch", "amd64", run.References.Single()]);
        var hello = await Tools.PodmanRunAsync(storage.Path, run.References.Single());
        Assert.Contains("Hello from a ko-built image!", hello.StandardOutput);
    }

    [Fact]
    public async Task A_second_push_of_an_unchanged_build_sends_no_blob_bytes_as_a_proxy_counts_them()
    {
        await using var proxy = new FaultProxy(_registry.Port, _ => FaultAction.Forward);
        var env = Env($"{proxy.Host}/team");
        var first = await Repo.KoAsync(env, "build", "-C", _src, "--platform", "linux/amd64", ".");
        Assert.True(first.ExitCode == 0, first.ToString());
        var before = proxy.Records.Count;
        Assert.Contains(proxy.Records, r => r.Method == "PUT" && r.Path.Contains("/blobs/uploads/", StringComparison.Ordinal) && r.ContentLength > 0);

        var second = await Repo.KoAsync(env, "build", "-C", _src, "--platform", "linux/amd64", ".");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(first.References, second.References);
        var again = proxy.Records.Skip(before).ToList();
        Assert.NotEmpty(again);
        Assert.All(again, r => Assert.True(r.Method is "HEAD" or "GET", $"{r.Method} {r.Target}"));
        Assert.All(again, r => Assert.Equal(0, r.ContentLength));
    }

    [Fact]
    public async Task A_single_platform_image_is_pushed_as_a_manifest_with_its_tags()
    {
        var repository = $"{_registry.Host}/single";
        var run = await Repo.KoAsync(Env(repository), "build", "-C", _src, "--platform", "linux/amd64", "-t", "v1,v2", ".");
        Assert.True(run.ExitCode == 0, run.ToString());
        var reference = Assert.Single(run.References);
        var name = reference[..reference.IndexOf('@')];
        var digest = reference[(reference.IndexOf('@') + 1)..];
        foreach (var tag in new[] { "v1", "v2" })
        {
            var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", $"docker://{name}:{tag}"]);
            Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raw.StandardOutput))));
            Assert.Contains("application/vnd.oci.image.manifest.v1+json", raw.StandardOutput);
        }

        await Tools.RunAsync("skopeo", ["copy", "--src-tls-verify=false", $"docker://{reference}", $"oci:{_dir.Combine("copy")}:x"]);

        // The tags list, as the registry reports it and skopeo reads it.
        using var client = new Ko.Engine.Registry.RegistryClient(_registry.Host, new Ko.Engine.Registry.RegistryOptions());
        var repositoryPath = name[(_registry.Host.Length + 1)..];
        var tags = await client.ListTagsAsync(repositoryPath, CancellationToken.None);
        // Besides the two tags, the SBOM (on by default) hangs on the referrers tag schema's sha256-<hex> index.
        Assert.Equal(["v1", "v2"], tags.Where(t => !t.StartsWith("sha256-", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Contains("sha256-" + digest["sha256:".Length..], tags);
        var listed = await Tools.RunAsync("skopeo", ["list-tags", "--tls-verify=false", $"docker://{name}"]);
        Assert.Contains("\"v2\"", listed.StandardOutput);
        Assert.Empty(await client.ListTagsAsync("no/such/repository", CancellationToken.None));
    }

    [Fact]
    public async Task Pushing_where_no_registry_listens_fails_with_KO3002_naming_the_host()
    {
        // A port held by a socket that is bound but never listens: connections are refused, and no registry another
        // test starts at the same time can take it (a port merely found free could be).
        using var held = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        held.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)held.LocalEndPoint!).Port;
        var run = await Repo.KoAsync(Env($"127.0.0.1:{port}/team"), "build", "-C", _src, "--platform", "linux/amd64", ".");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("KO3002", run.Stderr);
        Assert.Contains($"127.0.0.1:{port}", run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
    }

    [Fact]
    public async Task A_bare_registry_host_is_a_repository_prefix_unless_bare_naming_makes_it_the_whole_name()
    {
        var run = await Repo.KoAsync(Env(_registry.Host), "build", "-C", _src, "--platform", "linux/amd64", "-B", ".");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith($"{_registry.Host}/hello@sha256:", run.References.Single());
        await Tools.RunAsync("skopeo", ["inspect", "--tls-verify=false", $"docker://{run.References.Single()}"]);

        var bare = await Repo.KoAsync(Env(_registry.Host), "build", "-C", _src, "--platform", "linux/amd64", "--bare", ".");
        Assert.Equal(1, bare.ExitCode);
        Assert.Contains("KO1004", bare.Stderr);
        Assert.Contains("no repository", bare.Stderr);
    }

    [Fact]
    public async Task An_invalid_repository_is_refused_before_building()
    {
        // Upper case is not allowed in a repository name; the build must not even start.
        File.WriteAllText(Path.Combine(_src, "main.go"), "package main\n\nfunc main() { broken( }\n");
        var run = await Repo.KoAsync(Env("127.0.0.1:5000/Team/App"), "build", "-C", _src, "--platform", "linux/amd64", ".");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("KO1004", run.Stderr);
        Assert.DoesNotContain("KO2004", run.Stderr);
    }
}
