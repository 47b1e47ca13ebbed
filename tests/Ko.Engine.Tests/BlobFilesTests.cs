using Ko.Engine.Layers;
using Ko.Engine.Util;

namespace Ko.Engine.Tests;

/// <summary>Blobs placed into outputs by hard link on one file system, by copy across file systems, never corrupting the cache.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class BlobFilesTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void On_one_file_system_the_blob_is_linked_and_made_read_only()
    {
        var source = _dir.WriteFile("cache/blob", "layer bytes");
        var destination = _dir.Combine("out", "blob");
        Directory.CreateDirectory(_dir.Combine("out"));

        Assert.Equal(BlobPlacement.Linked, BlobFiles.LinkOrCopy(source, destination));
        Assert.True(BlobFiles.AreSameFile(source, destination));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(source));
        Assert.Equal("layer bytes", File.ReadAllText(destination));
        Assert.Equal(["blob"], Directory.GetFiles(_dir.Combine("out")).Select(Path.GetFileName)); // no temporary left
    }

    [Fact]
    public void Across_file_systems_the_blob_is_copied()
    {
        Assert.True(UnixFileStatus.IdentityOf("/dev/shm")?.Device != UnixFileStatus.IdentityOf(_dir.Path)?.Device, "the test needs /dev/shm on another file system than the temp directory");
        using var other = new TempDirIn("/dev/shm");
        var source = _dir.WriteFile("cache/blob", "layer bytes");
        var destination = Path.Combine(other.Path, "blob");

        Assert.Equal(BlobPlacement.Copied, BlobFiles.LinkOrCopy(source, destination));
        Assert.False(BlobFiles.AreSameFile(source, destination));
        Assert.Equal("layer bytes", File.ReadAllText(destination));
    }

    [Fact]
    public void An_existing_destination_is_replaced_whole()
    {
        var source = _dir.WriteFile("cache/blob", "new");
        var destination = _dir.WriteFile("out/blob", "an older, longer file");

        BlobFiles.LinkOrCopy(source, destination);

        Assert.Equal("new", File.ReadAllText(destination));
    }

    [Fact]
    public void A_missing_source_is_an_error_and_leaves_nothing_behind()
    {
        Directory.CreateDirectory(_dir.Combine("out"));

        Assert.ThrowsAny<IOException>(() => BlobFiles.LinkOrCopy(_dir.Combine("cache", "missing"), _dir.Combine("out", "blob")));
        Assert.Empty(Directory.GetFileSystemEntries(_dir.Combine("out")));
    }

    [Fact]
    public async Task A_write_through_the_link_is_caught_by_the_cache_and_never_used()
    {
        var (store, cache, layer) = await TestUtil.CachedLayerAsync(_dir.Combine("cache"));
        Directory.CreateDirectory(_dir.Combine("layout"));
        var output = _dir.Combine("layout", layer.Descriptor.Digest.Hex);
        BlobFiles.LinkOrCopy(layer.Path, output);

        // A careless tool (running as root, so the read-only mode does not stop it) edits the layout's file in place.
        var bytes = await File.ReadAllBytesAsync(output);
        bytes[^5] ^= 0xff;
        using (var stream = new FileStream(output, FileMode.Open, FileAccess.Write))
        {
            stream.Write(bytes);
        }

        Assert.Null(await cache.TryGetAsync("key", CancellationToken.None));
        Assert.False(File.Exists(layer.Path));
    }

    private sealed class TempDirIn : IDisposable
    {
        public TempDirIn(string parent)
        {
            Path = System.IO.Path.Combine(parent, $"ko-test-{Guid.NewGuid():N}");
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
