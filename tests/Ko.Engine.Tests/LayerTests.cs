using Ko.Engine.Images;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using KoTarEntry = Ko.Engine.Layers.TarEntry;
using TarEntryType = Ko.Engine.Layers.TarEntryType;

namespace Ko.Engine.Tests;

public sealed class LayerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private ContentStore NewStore() => new(_dir.Combine("cache"));

    private static Task<FileLayer> WriteSampleAsync(ContentStore store, string content = "payload") =>
        LayerWriter.WriteAsync(
            store,
            async (tar, ct) =>
            {
                await tar.WriteEntryAsync(new KoTarEntry("ko-app", TarEntryType.Directory, 0x16d, 0, 0), ct);
                await tar.WriteEntryAsync(new KoTarEntry("ko-app/app", TarEntryType.File, 0x16d, 0, 0), System.Text.Encoding.UTF8.GetBytes(content), ct);
            },
            CancellationToken.None);

    [Fact]
    public async Task Digests_size_and_diff_id_match_the_stored_bytes()
    {
        var store = NewStore();
        var layer = await WriteSampleAsync(store);

        Assert.Equal(MediaTypes.OciLayerGzip, layer.Descriptor.MediaType);
        Assert.Equal(Path.Combine(store.Root, "blobs", "sha256", layer.Descriptor.Digest.Hex), layer.Path);
        var blob = await File.ReadAllBytesAsync(layer.Path);
        Assert.Equal(TestUtil.Sha256Ref(blob), layer.Descriptor.Digest.ToString());
        Assert.Equal(blob.Length, layer.Descriptor.Size);

        var tar = TestUtil.Gunzip(blob);
        Assert.Equal(TestUtil.Sha256Ref(tar), layer.DiffId.ToString());

        var entries = TestUtil.ReadTar(tar);
        Assert.Equal(["ko-app/", "ko-app/app"], entries.Select(e => e.Entry.Name));
        Assert.Equal("payload"u8.ToArray(), entries[1].Data);

        // What OpenCompressedAsync streams is the very same blob.
        await using var stream = await layer.OpenCompressedAsync(CancellationToken.None);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(blob, copy.ToArray());
    }

    [Fact]
    public async Task Gzip_header_has_no_name_and_no_time()
    {
        var layer = await WriteSampleAsync(NewStore());
        var blob = await File.ReadAllBytesAsync(layer.Path);

        Assert.Equal(0x1f, blob[0]);
        Assert.Equal(0x8b, blob[1]);
        Assert.Equal(8, blob[2]); // deflate
        Assert.Equal(0, blob[3] & 0x08); // FNAME
        Assert.Equal(0, blob[3] & 0x10); // FCOMMENT
        Assert.Equal(new byte[4], blob[4..8]); // MTIME
    }

    [Fact]
    public async Task Same_entries_give_same_digest_and_different_entries_do_not()
    {
        var store = NewStore();
        var a = await WriteSampleAsync(store);
        var b = await WriteSampleAsync(store);
        var c = await WriteSampleAsync(store, "other payload");

        Assert.Equal(a.Descriptor, b.Descriptor);
        Assert.Equal(a.DiffId, b.DiffId);
        Assert.NotEqual(a.Descriptor.Digest, c.Descriptor.Digest);
        Assert.NotEqual(a.DiffId, c.DiffId);

        // Also identical across two independent stores.
        using var other = new TempDir();
        var d = await WriteSampleAsync(new ContentStore(other.Path));
        Assert.Equal(a.Descriptor.Digest, d.Descriptor.Digest);
    }

    [Fact]
    public async Task No_temp_files_are_left_behind()
    {
        var store = NewStore();
        var layer = await WriteSampleAsync(store);
        await new LayerCache(store).PutAsync("k", layer, CancellationToken.None);
        await store.PutAsync("{}"u8.ToArray(), Digest.Sha256("{}"u8), CancellationToken.None);

        Assert.Empty(Directory.EnumerateFileSystemEntries(store.TempDirectory));
    }

    [Fact]
    public async Task Failing_writer_leaves_no_temp_file_and_no_blob()
    {
        var store = NewStore();
        await Assert.ThrowsAsync<InvalidOperationException>(() => LayerWriter.WriteAsync(
            store,
            async (tar, ct) =>
            {
                await tar.WriteEntryAsync(new KoTarEntry("x", TarEntryType.Directory, 0x1ed, 0, 0), ct);
                throw new InvalidOperationException("boom");
            },
            CancellationToken.None));

        Assert.Empty(Directory.EnumerateFileSystemEntries(store.TempDirectory));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "blobs", "sha256")));
    }

    [Fact]
    public async Task Cache_returns_layer_after_put()
    {
        var store = NewStore();
        var cache = new LayerCache(store);
        var layer = await WriteSampleAsync(store);

        Assert.Null(await cache.TryGetAsync("key-1", CancellationToken.None));
        await cache.PutAsync("key-1", layer, CancellationToken.None);

        var hit = await cache.TryGetAsync("key-1", CancellationToken.None);
        Assert.NotNull(hit);
        Assert.Equal(layer.Descriptor.Digest, hit.Descriptor.Digest);
        Assert.Equal(layer.Descriptor.Size, hit.Descriptor.Size);
        Assert.Equal(layer.DiffId, hit.DiffId);
        Assert.Equal(layer.Path, hit.Path);
        Assert.Null(await cache.TryGetAsync("key-2", CancellationToken.None));

        // A new cache over the same directory sees the entry (it is on disk, not in memory).
        Assert.NotNull(await new LayerCache(new ContentStore(store.Root)).TryGetAsync("key-1", CancellationToken.None));
    }

    [Fact]
    public async Task Corrupted_blob_is_a_miss_and_is_deleted()
    {
        var store = NewStore();
        var cache = new LayerCache(store);
        var layer = await WriteSampleAsync(store);
        await cache.PutAsync("key", layer, CancellationToken.None);

        var bytes = await File.ReadAllBytesAsync(layer.Path);
        var corrupted = (byte[])bytes.Clone();
        corrupted[^5] ^= 0xff; // same length, different content
        await File.WriteAllBytesAsync(layer.Path, corrupted);

        Assert.Null(await cache.TryGetAsync("key", CancellationToken.None));
        Assert.False(File.Exists(layer.Path));
        Assert.Null(await cache.TryGetAsync("key", CancellationToken.None));
    }

    [Fact]
    public async Task Cache_entry_whose_blob_was_removed_is_a_miss()
    {
        var store = NewStore();
        var cache = new LayerCache(store);
        var layer = await WriteSampleAsync(store);
        await cache.PutAsync("key", layer, CancellationToken.None);
        File.Delete(layer.Path);

        Assert.Null(await cache.TryGetAsync("key", CancellationToken.None));
    }

    [Fact]
    public async Task Garbled_cache_entry_is_a_miss()
    {
        var store = NewStore();
        var cache = new LayerCache(store);
        var layer = await WriteSampleAsync(store);
        await cache.PutAsync("key", layer, CancellationToken.None);
        var entry = Directory.GetFiles(Path.Combine(store.Root, "layers")).Single();
        await File.WriteAllTextAsync(entry, "{not json");

        Assert.Null(await cache.TryGetAsync("key", CancellationToken.None));
    }

    [Fact]
    public async Task Verify_rejects_wrong_size_and_deletes()
    {
        var store = NewStore();
        var bytes = "config"u8.ToArray();
        var digest = Digest.Sha256(bytes);
        var path = await store.PutAsync(bytes, digest, CancellationToken.None);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
        Assert.True(await store.VerifyAsync(digest, bytes.Length, CancellationToken.None));
        Assert.False(await store.VerifyAsync(digest, bytes.Length + 1, CancellationToken.None));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Default_root_follows_kocache_then_xdg_then_home()
    {
        Assert.Equal("/k", ContentStore.DefaultRoot(new Dictionary<string, string?> { ["KOCACHE"] = "/k", ["XDG_CACHE_HOME"] = "/x", ["HOME"] = "/h" }));
        Assert.Equal(Path.Combine("/x", "ko"), ContentStore.DefaultRoot(new Dictionary<string, string?> { ["KOCACHE"] = " ", ["XDG_CACHE_HOME"] = "/x", ["HOME"] = "/h" }));
        Assert.Equal(Path.Combine("/h", ".cache", "ko"), ContentStore.DefaultRoot(new Dictionary<string, string?> { ["HOME"] = "/h" }));
    }

    [Fact]
    public void Cache_keys_do_not_collide_across_part_boundaries()
    {
        Assert.NotEqual(CacheKey.Of("ab", "c"), CacheKey.Of("a", "bc"));
        Assert.Equal(CacheKey.Of("a", "bc"), CacheKey.Of("a", "bc"));
        Assert.Matches("^[0-9a-f]{64}$", CacheKey.Of("x"));
    }

    [Fact]
    public async Task Binary_layer_holds_the_binary_at_0555_undated_under_ko_names_and_is_cached_second_time()
    {
        // ko pkg/build/gobuild.go tarBinary: "ko-app" (no trailing slash) then "/ko-app/NAME" (leading slash), mode
        // 0555, no ModTime (0) whatever SOURCE_DATE_EPOCH says.
        var store = NewStore();
        var cache = new LayerCache(store);
        var binary = _dir.WriteFile("bin/hello", "\u007fELF fake binary");

        var first = await AppLayers.BinaryLayerAsync(store, cache, binary, "hello", 1_700_000_000, CancellationToken.None);
        var second = await AppLayers.BinaryLayerAsync(store, cache, binary, "hello", 1_700_000_000, CancellationToken.None);
        var otherTime = await AppLayers.BinaryLayerAsync(store, cache, binary, "hello", 0, CancellationToken.None);

        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(first.Layer.Descriptor.Digest, second.Layer.Descriptor.Digest);
        Assert.Equal(first.Layer.Descriptor.Digest, otherTime.Layer.Descriptor.Digest);

        var entries = TestUtil.ReadTar(TestUtil.Gunzip(await File.ReadAllBytesAsync(first.Layer.Path)));
        Assert.Equal(["ko-app", "/ko-app/hello"], entries.Select(e => e.Entry.Name));
        Assert.Equal(System.Formats.Tar.TarEntryType.Directory, entries[0].Entry.EntryType);
        Assert.All(entries, e => Assert.Equal(TestUtil.Octal("555"), (int)e.Entry.Mode));
        Assert.All(entries, e => Assert.Equal(DateTimeOffset.UnixEpoch, e.Entry.ModificationTime));
        Assert.Equal(await File.ReadAllBytesAsync(binary), entries[1].Data);
    }
}
