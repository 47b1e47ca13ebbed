using System.Text.Json;

namespace Ko.Engine.IntegrationTests;

public sealed class LayoutRewriteTests
{
    [Fact]
    public async Task A_layout_written_again_lists_only_the_sboms_of_the_images_it_still_names()
    {
        using var dir = new TempDir("ko-layout-rewrite");
        var src = Repo.CopyHello(dir.Combine("hello"));
        var env = Repo.Environment(dir.Combine("cache"));
        var layout = dir.Combine("layout");
        var digests = new List<string>();
        foreach (var label in new[] { "one", "two", "three" })
        {
            // Each run makes another image under the same name:tag, which replaces the one before.
            var run = await Repo.KoAsync(env, "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64", "--sbom", "spdx", "--image-label", "run=" + label, "--oci-layout-path", layout);
            Assert.True(run.ExitCode == 0, run.ToString());
            digests.Add(run.References[0].Split('@')[1]);
        }

        Assert.Equal(3, digests.Distinct().Count());
        using var top = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        var entries = top.RootElement.GetProperty("manifests").EnumerateArray().ToList();
        var sbom = Assert.Single(entries, e => e.TryGetProperty("artifactType", out _));
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", sbom.GetProperty("digest").GetString()!["sha256:".Length..])));
        Assert.Equal(digests[^1], manifest.RootElement.GetProperty("subject").GetProperty("digest").GetString());
        Assert.Equal(digests[^1], Assert.Single(entries, e => !e.TryGetProperty("artifactType", out _)).GetProperty("digest").GetString());
    }

    [Fact]
    public async Task An_sbom_listing_whose_manifest_blob_is_garbage_is_kept_and_the_write_succeeds()
    {
        using var dir = new TempDir("ko-layout-garbage");
        var src = Repo.CopyHello(dir.Combine("hello"));
        var env = Repo.Environment(dir.Combine("cache"));
        var layout = dir.Combine("layout");
        var first = await Repo.KoAsync(env, "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64", "--sbom", "spdx", "--oci-layout-path", layout);
        Assert.True(first.ExitCode == 0, first.ToString());
        string SbomDigest()
        {
            using var top = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
            return top.RootElement.GetProperty("manifests").EnumerateArray().Single(e => e.TryGetProperty("artifactType", out _)).GetProperty("digest").GetString()!;
        }

        var listed = SbomDigest();
        File.WriteAllText(Path.Combine(layout, "blobs", "sha256", listed["sha256:".Length..]), "{ not json");
        var second = await Repo.KoAsync(env, "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64", "--sbom", "spdx", "--image-label", "x=y", "--oci-layout-path", layout);
        Assert.True(second.ExitCode == 0, second.ToString());
        using var after = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        Assert.Contains(after.RootElement.GetProperty("manifests").EnumerateArray(), e => e.GetProperty("digest").GetString() == listed);
    }
}

public sealed class ImageRefsTests
{
    [Fact]
    public async Task Image_refs_of_an_index_lists_the_index_and_each_platform_image_as_kos_recorder_does()
    {
        // ko pkg/publish/recorder.go: an index is written as name@digest of itself and then of every child.
        using var dir = new TempDir("ko-image-refs");
        var src = Repo.CopyHello(dir.Combine("hello"));
        var refs = dir.Combine("refs.txt");
        var run = await Repo.KoAsync(Repo.Environment(dir.Combine("cache")), "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--oci-layout-path", dir.Combine("layout"), "--image-refs", refs);
        Assert.True(run.ExitCode == 0, run.ToString());
        var (name, digest) = (run.References[0].Split('@')[0], run.References[0].Split('@')[1]);
        using var index = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(dir.Combine("layout", "blobs", "sha256", digest["sha256:".Length..])));
        var children = index.RootElement.GetProperty("manifests").EnumerateArray().Select(m => $"{name}@{m.GetProperty("digest").GetString()}").ToList();
        Assert.Equal(2, children.Count);
        Assert.Equal([$"{name}@{digest}", .. children], File.ReadAllLines(refs));
    }
}
