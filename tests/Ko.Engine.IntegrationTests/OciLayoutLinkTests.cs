using Ko.Engine.Configuration;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// An OCI layout written from the cache shares the cache's layer files by hard link when both are on one file
/// system (no bytes copied), and holds copies when they are not; either way every blob hashes to its name.
/// </summary>
public sealed class OciLayoutLinkTests : IDisposable
{
    private readonly TempDir _dir = new("ko-links");

    public void Dispose() => _dir.Dispose();

    private KoBuildOptions Options(string layout) => new()
    {
        ImportPaths = ["."],
        WorkingDirectory = Repo.CopyHello(_dir.Combine("hello")),
        Push = false,
        Platforms = ["linux/amd64"],
        Environment = Repo.Environment(_dir.Combine("cache")),
        OciLayoutPath = layout,
    };

    private static async Task<int> LinkCountAsync(string path) =>
        int.Parse((await Tools.RunAsync("stat", ["-c", "%h", path])).StandardOutput.Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task AssertBlobsHashToTheirNamesAsync(string layout)
    {
        foreach (var blob in Directory.EnumerateFiles(Path.Combine(layout, "blobs", "sha256")))
        {
            await using var stream = File.OpenRead(blob);
            Assert.Equal(Path.GetFileName(blob), Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stream)));
        }
    }

    [Fact]
    public async Task A_layout_on_the_cache_file_system_links_the_cached_layers()
    {
        var layout = _dir.Combine("layout");
        var options = Options(layout);
        var first = await new KoEngine().BuildAsync(options);
        var linked = Directory.GetFiles(Path.Combine(layout, "blobs", "sha256"))
            .Where(b => Ko.Engine.Util.BlobFiles.AreSameFile(b, _dir.Combine("cache", "blobs", "sha256", Path.GetFileName(b))))
            .ToList();

        Assert.True(linked.Count >= 2, $"{linked.Count} blobs linked; the kodata and the binary layer should be");
        foreach (var blob in linked)
        {
            Assert.Equal(2, await LinkCountAsync(blob));
        }

        await AssertBlobsHashToTheirNamesAsync(layout);

        // A second run into the same layout keeps the links (and makes no third name) and the same image.
        var second = await new KoEngine().BuildAsync(options);
        Assert.Equal(first.Images[0].Digest, second.Images[0].Digest);
        foreach (var blob in linked)
        {
            Assert.Equal(2, await LinkCountAsync(blob));
        }

        await Tools.RunAsync("skopeo", ["copy", $"oci:{layout}:{first.Images[0].Name}:latest", $"oci:{_dir.Combine("verified")}:x"]);
    }

    [Fact]
    public async Task A_layout_on_another_file_system_gets_copies()
    {
        Assert.True(Ko.Engine.Util.UnixFileStatus.IdentityOf("/dev/shm")?.Device != Ko.Engine.Util.UnixFileStatus.IdentityOf(_dir.Path)?.Device, "the test needs /dev/shm on another file system than the temp directory");
        var layout = Path.Combine("/dev/shm", $"ko-links-{Guid.NewGuid():N}");
        try
        {
            var built = await new KoEngine().BuildAsync(Options(layout));
            foreach (var blob in Directory.GetFiles(Path.Combine(layout, "blobs", "sha256")))
            {
                Assert.Equal(1, await LinkCountAsync(blob));
            }

            await AssertBlobsHashToTheirNamesAsync(layout);
            Assert.NotEmpty(built.Images);
        }
        finally
        {
            if (Directory.Exists(layout))
            {
                Directory.Delete(layout, recursive: true);
            }
        }
    }
}
