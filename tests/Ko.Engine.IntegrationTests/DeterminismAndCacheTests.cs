using System.Text.Json;
using Ko.Engine.Configuration;

namespace Ko.Engine.IntegrationTests;

public sealed class DeterminismAndCacheTests
{
    [Fact]
    public async Task Two_copies_in_different_directories_at_different_times_give_the_same_index_digest()
    {
        using var a = new TempDir("ko-det-a");
        using var b = new TempDir("ko-det-b");
        var srcA = Repo.CopyHello(a.Combine("one", "hello"));
        var srcB = Repo.CopyHello(b.Combine("two", "deeper", "hello"));
        foreach (var f in Directory.EnumerateFiles(srcB, "*", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddDays(-3));
        }

        var first = await Repo.KoAsync(Repo.Environment(a.Combine("cache")), "build", ".", "-C", srcA, "--push=false", "--platform", "linux/amd64,linux/arm64", "--oci-layout-path", a.Combine("out"));
        Assert.True(first.ExitCode == 0, first.ToString());
        await Task.Delay(1100);
        var second = await Repo.KoAsync(Repo.Environment(b.Combine("cache")), "build", ".", "-C", srcB, "--push=false", "--platform", "linux/amd64,linux/arm64", "--oci-layout-path", b.Combine("out"));
        Assert.True(second.ExitCode == 0, second.ToString());
        // Each prints <its layout path>@digest (ko's layout publisher): the digests must be equal.
        Assert.Equal(first.References.Select(r => r.Split('@')[1]), second.References.Select(r => r.Split('@')[1]));
    }

    [Fact]
    public async Task Source_date_epoch_sets_created_and_no_layer_mtime_as_in_ko()
    {
        using var dir = new TempDir("ko-sde");
        var src = Repo.CopyHello(dir.Combine("hello"));
        var plain = await Repo.KoAsync(Repo.Environment(dir.Combine("cache")), "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64", "--oci-layout-path", dir.Combine("plain"));
        var dated = await Repo.KoAsync(Repo.Environment(dir.Combine("cache"), new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = "1700000000" }),
            "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64", "--oci-layout-path", dir.Combine("dated"));
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.True(dated.ExitCode == 0, dated.ToString());
        Assert.NotEqual(plain.References.Select(r => r.Split('@')[1]), dated.References.Select(r => r.Split('@')[1]));

        var layout = dir.Combine("dated");
        string Blob(string digest) => Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..]);
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Blob(dated.References[0].Split('@')[1])));
        using var config = JsonDocument.Parse(File.ReadAllBytes(Blob(manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!)));
        Assert.Equal("2023-11-14T22:13:20Z", config.RootElement.GetProperty("created").GetString());
        var layers = manifest.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!).ToList();
        // ko (pkg/build/gobuild.go, pkg/commands/resolver.go): the binary is never dated and kodata only by
        // KO_DATA_DATE_EPOCH, so SOURCE_DATE_EPOCH leaves every layer entry at time 0.
        foreach (var layer in layers.Skip(1))
        {
            Assert.All(HelloImageTests.ReadTar(Blob(layer)), e => Assert.Equal(DateTimeOffset.UnixEpoch, e.ModificationTime));
        }
    }

    [Fact]
    public async Task A_rebuild_of_an_unchanged_program_reuses_both_cached_layers()
    {
        using var dir = new TempDir("ko-cache");
        var src = Repo.CopyHello(dir.Combine("hello"));
        var options = new KoBuildOptions
        {
            ImportPaths = ["."],
            WorkingDirectory = src,
            Push = false,
            Platforms = ["linux/amd64"],
            Environment = Repo.Environment(dir.Combine("cache")),
        };
        var engine = new KoEngine();
        var cold = await engine.BuildAsync(options);
        Assert.Equal(2, cold.Statistics.LayersWritten); // kodata, binary (the embedded base layer is not an app layer)
        Assert.Equal(0, cold.Statistics.LayersReused);

        var warm = await engine.BuildAsync(options);
        Assert.Equal(0, warm.Statistics.LayersWritten);
        Assert.Equal(2, warm.Statistics.LayersReused);
        Assert.Equal(cold.Images[0].Digest, warm.Images[0].Digest);

        var verbose = await Repo.KoAsync(options.Environment!, "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64", "-v");
        Assert.True(verbose.ExitCode == 0, verbose.ToString());
        Assert.Contains("Reused cached layer", verbose.Stderr);
        Assert.DoesNotContain("Wrote layer", verbose.Stderr);

        // A changed kodata file is a new layer; the binary layer is still reused.
        File.AppendAllText(Path.Combine(src, "kodata", "greeting.txt"), "changed\n");
        var changed = await engine.BuildAsync(options);
        Assert.Equal(1, changed.Statistics.LayersWritten);
        Assert.NotEqual(cold.Images[0].Digest, changed.Images[0].Digest);
    }

    [Fact]
    public async Task A_cached_blob_whose_bytes_no_longer_match_is_discarded_and_rebuilt()
    {
        using var dir = new TempDir("ko-corrupt");
        var src = Repo.CopyHello(dir.Combine("hello"));
        var options = new KoBuildOptions
        {
            ImportPaths = ["."],
            WorkingDirectory = src,
            Push = false,
            Platforms = ["linux/amd64"],
            Environment = Repo.Environment(dir.Combine("cache")),
            OciLayoutPath = dir.Combine("first"),
        };
        var engine = new KoEngine();
        var first = await engine.BuildAsync(options);

        // Flip a byte in every cached blob: the cache must notice and rebuild rather than ship bad bytes.
        foreach (var blob in Directory.EnumerateFiles(dir.Combine("cache", "blobs", "sha256")))
        {
            var bytes = File.ReadAllBytes(blob);
            bytes[bytes.Length / 2] ^= 0xff;
            File.WriteAllBytes(blob, bytes);
        }

        var second = await engine.BuildAsync(options with { OciLayoutPath = dir.Combine("second") });
        Assert.Equal(2, second.Statistics.LayersWritten);
        Assert.Equal(first.Images[0].Digest, second.Images[0].Digest);
        await Tools.RunAsync("skopeo", ["copy", $"oci:{dir.Combine("second")}:{second.Images[0].Name}:latest", $"oci:{dir.Combine("verified")}:x"]);
    }
}
