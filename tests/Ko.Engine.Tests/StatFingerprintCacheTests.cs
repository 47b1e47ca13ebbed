using System.Text.Json;
using Ko.Engine.Layers;
using Ko.Engine.Util;

namespace Ko.Engine.Tests;

/// <summary>
/// Cache checks by stat fingerprint instead of hashing: an unchanged kodata tree and an untouched cached blob are not
/// read again, and any write (even one that keeps the size and puts the old modification time back) is noticed.
/// </summary>
public sealed class StatFingerprintCacheTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Lets the files' last change fall out of the racy window, so their fingerprints are trusted.</summary>
    private static Task SettleAsync() => Task.Delay(FileFingerprint.RacyWindow * 3);

    private Task<(ContentStore Store, LayerCache Cache, FileLayer Layer)> CachedLayerAsync() => TestUtil.CachedLayerAsync(_dir.Combine("cache"));

    private static void RewriteKeepingSizeAndMtime(string path, string content)
    {
        var mtime = File.GetLastWriteTimeUtc(path);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            stream.Write(System.Text.Encoding.UTF8.GetBytes(content));
        }

        File.SetLastWriteTimeUtc(path, mtime);
    }

    [Fact]
    public async Task An_unchanged_kodata_tree_gets_the_same_stat_key_and_the_cached_layer_under_it()
    {
        var store = new ContentStore(_dir.Combine("cache"));
        var cache = new LayerCache(store);
        _dir.WriteFile("pkg/kodata/index.html", "<h1>v1</h1>");
        _dir.WriteFile("pkg/kodata/static/app.js", "js");
        await SettleAsync();
        var entries = AppLayers.KodataEntries(_dir.Combine("pkg", "kodata"));

        var key = AppLayers.KodataStatKey(entries, 0);
        var first = await AppLayers.KodataLayerAsync(store, cache, _dir.Combine("pkg"), 0, CancellationToken.None);
        var again = await AppLayers.KodataLayerAsync(store, cache, _dir.Combine("pkg"), 0, CancellationToken.None);

        Assert.NotNull(key);
        Assert.Equal(key, AppLayers.KodataStatKey(entries, 0));
        Assert.NotEqual(key, AppLayers.KodataStatKey(entries, 1)); // the layer's mtime is part of it
        Assert.Equal(first.Layer.Descriptor.Digest, (await cache.TryGetAsync(key!, CancellationToken.None))?.Descriptor.Digest);
        Assert.True(again.FromCache);
    }

    [Fact]
    public async Task A_same_size_rewrite_that_puts_the_old_mtime_back_changes_the_kodata_layer()
    {
        var store = new ContentStore(_dir.Combine("cache"));
        var cache = new LayerCache(store);
        var file = _dir.WriteFile("pkg/kodata/index.html", "<h1>v1</h1>");
        await SettleAsync();
        var first = await AppLayers.KodataLayerAsync(store, cache, _dir.Combine("pkg"), 0, CancellationToken.None);

        RewriteKeepingSizeAndMtime(file, "<h1>v2</h1>");
        await SettleAsync();
        var changed = await AppLayers.KodataLayerAsync(store, cache, _dir.Combine("pkg"), 0, CancellationToken.None);

        Assert.False(changed.FromCache);
        Assert.NotEqual(first.Layer.Descriptor.Digest, changed.Layer.Descriptor.Digest);
        var tar = TestUtil.ReadTar(TestUtil.Gunzip(await File.ReadAllBytesAsync(changed.Layer.Path)));
        Assert.Equal("<h1>v2</h1>"u8.ToArray(), tar.Single(e => e.Entry.Name.TrimStart('/') == "var/run/ko/index.html").Data);
    }

    [Fact]
    public void A_file_changed_a_moment_ago_gets_no_stat_key_so_its_content_decides()
    {
        var file = _dir.WriteFile("pkg/kodata/index.html", "<h1>v1</h1>");
        // "A moment ago" without depending on how fast this test runs: a modification time ahead of the clock is
        // always inside the window (a file written within the last 30 ms looks the same to the check).
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(10));

        Assert.Null(AppLayers.KodataStatKey(AppLayers.KodataEntries(_dir.Combine("pkg", "kodata")), 0));
    }

    [Theory]
    [InlineData(1_000_000_000L, false, false)] // a second ago, nanosecond times: outside the 30 ms window
    [InlineData(10_000_000L, false, true)] // 10 ms ago: inside it
    [InlineData(1_000_000_000L, true, true)] // whole seconds only (a coarse file system): a two-second window
    [InlineData(3_000_000_000L, true, false)]
    public void The_racy_window_is_30_ms_and_two_seconds_for_whole_second_file_times(long agoNs, bool wholeSeconds, bool racy)
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 10, TimeSpan.Zero);
        var changed = (now.ToUnixTimeMilliseconds() * 1_000_000L) - agoNs + (wholeSeconds ? 0 : 7);

        Assert.Equal(racy, new FileFingerprint(1, 2, 0x1a4, 5, changed, changed).IsRacy(now));
    }

    [Fact]
    public async Task A_cached_blob_keeps_its_fingerprint_and_a_same_size_rewrite_of_it_is_caught()
    {
        var (store, cache, layer) = await CachedLayerAsync();

        using (var entry = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(store.Root, "layers", "key.json"))))
        {
            Assert.Equal(UnixFileStatus.FingerprintOf(layer.Path, followLinks: false).ToString(), entry.RootElement.GetProperty("blobStat").GetString());
        }

        Assert.NotNull(await cache.TryGetAsync("key", CancellationToken.None));

        var bytes = await File.ReadAllBytesAsync(layer.Path);
        bytes[^5] ^= 0xff;
        var mtime = File.GetLastWriteTimeUtc(layer.Path);
        await File.WriteAllBytesAsync(layer.Path, bytes);
        File.SetLastWriteTimeUtc(layer.Path, mtime);

        Assert.Null(await cache.TryGetAsync("key", CancellationToken.None));
        Assert.False(File.Exists(layer.Path)); // the corrupt blob is gone, so nothing uses it
    }

    [Fact]
    public async Task A_blob_linked_into_a_layout_is_not_hashed_again_but_a_write_through_the_link_is_caught()
    {
        var (store, cache, layer) = await CachedLayerAsync();
        var entry = Path.Combine(store.Root, "layers", "key.json");
        var entryStamp = UnixFileStatus.FingerprintOf(entry, followLinks: false);
        var verified = (await cache.TryGetAsync("key", CancellationToken.None))!.Verified!.Value;

        // What the OCI layout sink does: a hard link (the blob's change time moves), then the stamp follows it.
        var linked = _dir.Combine("layout-blob");
        BlobFiles.LinkOrCopy(layer.Path, linked);
        Assert.True(BlobFiles.AreSameFile(layer.Path, linked));
        LayerCache.Relinked(layer.Path, verified);

        var again = await cache.TryGetAsync("key", CancellationToken.None);
        Assert.NotNull(again);
        Assert.Equal(UnixFileStatus.FingerprintOf(layer.Path, followLinks: false), again.Verified);
        Assert.Equal(entryStamp, UnixFileStatus.FingerprintOf(entry, followLinks: false)); // not hashed: no entry rewritten

        // A same-size write through the layout's link with the old modification time put back is still caught.
        var bytes = await File.ReadAllBytesAsync(linked);
        bytes[^5] ^= 0xff;
        var mtime = File.GetLastWriteTimeUtc(linked);
        var mode = File.GetUnixFileMode(linked);
        File.SetUnixFileMode(linked, mode | UnixFileMode.UserWrite);
        await File.WriteAllBytesAsync(linked, bytes);
        File.SetUnixFileMode(linked, mode);
        File.SetLastWriteTimeUtc(linked, mtime); // only the change time tells now

        Assert.Null(await cache.TryGetAsync("key", CancellationToken.None));
        Assert.False(File.Exists(layer.Path)); // the corrupt blob left the cache
    }
}
