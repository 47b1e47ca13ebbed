using Ko.Engine.Layers;
using Ko.Engine.Oci;

namespace Ko.Engine.Tests;

/// <summary>A cache (KOCACHE) that is not what it should be: a clear KO3010 naming the path, never a stack trace.</summary>
public sealed class CacheFaultTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Task<FileLayer> WriteLayerAsync(ContentStore store, string content) =>
        LayerWriter.WriteAsync(
            store,
            async (tar, ct) => await tar.WriteEntryAsync(new TarEntry("data.txt", TarEntryType.File, 0x1a4, 0, 0), System.Text.Encoding.UTF8.GetBytes(content), ct),
            CancellationToken.None);

    [Fact]
    public void Cache_that_is_a_regular_file_is_KO3010_naming_it()
    {
        var file = _dir.WriteFile("kocache", "not a directory");

        var ex = Assert.Throws<KoException>(() => new ContentStore(file));

        Assert.Equal("KO3010", ex.Code);
        Assert.Contains(file, ex.Message);
        Assert.Contains("KOCACHE", ex.Message);
        Assert.Equal("not a directory", File.ReadAllText(file));
    }

    [Fact]
    public void Cache_below_a_regular_file_is_KO3010()
    {
        var file = _dir.WriteFile("a-file", "x");

        var ex = Assert.Throws<KoException>(() => new ContentStore(Path.Combine(file, "cache")));

        Assert.Equal("KO3010", ex.Code);
        Assert.Contains(Path.Combine(file, "cache"), ex.Message);
    }

    [Fact]
    public async Task Blob_path_that_is_a_directory_is_KO3010_naming_it()
    {
        var store = new ContentStore(_dir.Combine("cache"));
        var probe = await WriteLayerAsync(store, "hello");
        File.Delete(probe.Path);
        Directory.CreateDirectory(Path.Combine(probe.Path, "oops"));

        var ex = await Assert.ThrowsAsync<KoException>(() => WriteLayerAsync(store, "hello"));

        Assert.Equal("KO3010", ex.Code);
        Assert.Contains(probe.Path, ex.Message);
        Assert.Contains("directory", ex.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(store.TempDirectory));
    }

    [Fact]
    public async Task Small_blob_of_the_right_size_but_wrong_bytes_is_replaced()
    {
        var store = new ContentStore(_dir.Combine("cache"));
        var bytes = "{\"config\":true}"u8.ToArray();
        var digest = Digest.Sha256(bytes);
        var path = store.BlobPath(digest);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var corrupt = bytes.ToArray();
        corrupt[3] ^= 0x20;
        await File.WriteAllBytesAsync(path, corrupt);

        await store.PutAsync(bytes, digest, CancellationToken.None);

        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task Cache_entry_that_is_a_fifo_is_a_miss_not_a_hang()
    {
        var store = new ContentStore(_dir.Combine("cache"));
        var cache = new LayerCache(store);
        var layer = await WriteLayerAsync(store, "hello");
        await cache.PutAsync("key", layer, CancellationToken.None);
        var entry = Path.Combine(store.Root, "layers", "key.json");
        File.Delete(entry);
        TestUtil.Run("mkfifo", entry);
        try
        {
            var lookup = Task.Run(() => cache.TryGetAsync("key", CancellationToken.None));
            Assert.True(await Task.WhenAny(lookup, Task.Delay(TimeSpan.FromSeconds(20))) == lookup, "reading a FIFO cache entry hung");
            Assert.Null(await lookup);

            await cache.PutAsync("key", layer, CancellationToken.None);
            Assert.NotNull(await cache.TryGetAsync("key", CancellationToken.None));
        }
        finally
        {
            TestUtil.ReleaseFifoReaders(entry);
        }
    }

    [Fact]
    public async Task A_binary_whose_bytes_differ_between_hashing_and_archiving_is_an_error_and_not_cached()
    {
        // Like a binary rewritten by a concurrent `go build` while it is archived: /proc/self/stat says it is empty
        // and is not, so the bytes hashed for the cache key are not the bytes archived.
        var store = new ContentStore(_dir.Combine("cache"));

        var ex = await Assert.ThrowsAsync<KoException>(() => AppLayers.BinaryLayerAsync(store, new LayerCache(store), "/proc/self/stat", "app", 0, CancellationToken.None));

        Assert.Equal("KO2004", ex.Code);
        Assert.Contains("/proc/self/stat", ex.Message);
        Assert.Contains("changed", ex.Message);
        Assert.False(Directory.Exists(Path.Combine(store.Root, "layers")) && Directory.EnumerateFiles(Path.Combine(store.Root, "layers")).Any(), "no cache entry may point at a layer that does not match its key");
    }

    [Fact]
    public async Task Stale_temporaries_of_dead_runs_are_removed_on_the_next_run()
    {
        var root = _dir.Combine("cache");
        var store = new ContentStore(root);
        var deadPid = DeadPid();
        var stale = Path.Combine(store.TempDirectory, $"layer-{deadPid}-{Guid.NewGuid():N}");
        var staleEntry = Path.Combine(store.TempDirectory, $"layer-entry-{deadPid}-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(stale, "half a layer");
        await File.WriteAllTextAsync(staleEntry, "{");
        Age(stale);
        Age(staleEntry);

        _ = new ContentStore(root);

        Assert.False(File.Exists(stale), "a dead run's temp must be removed");
        Assert.False(File.Exists(staleEntry), "a dead run's temp must be removed");
    }

    [Fact]
    public async Task Stale_temporaries_whose_process_id_was_reused_are_removed()
    {
        // A container gives every run the same small process ids, so a killed run's id often belongs to a live
        // process now (this very run, or another that started later): the file is older than that process, so that
        // process cannot have written it.
        var root = _dir.Combine("cache");
        var store = new ContentStore(root);
        var ours = Path.Combine(store.TempDirectory, $"layer-{Environment.ProcessId}-{Guid.NewGuid():N}");
        using var later = System.Diagnostics.Process.Start("sleep", "30");
        var theirs = Path.Combine(store.TempDirectory, $"layer-{later.Id}-{Guid.NewGuid():N}");
        try
        {
            await File.WriteAllTextAsync(ours, "half a layer of a killed run");
            await File.WriteAllTextAsync(theirs, "half a layer of another killed run");
            Age(ours);
            Age(theirs);

            _ = new ContentStore(root);

            Assert.False(File.Exists(ours), "a temp older than this process cannot be this process's");
            Assert.False(File.Exists(theirs), "a temp older than the process now holding its id cannot be that process's");
        }
        finally
        {
            later.Kill();
        }
    }

    [Fact]
    public async Task Temporaries_of_live_runs_are_kept()
    {
        var root = _dir.Combine("cache");
        var store = new ContentStore(root);

        // Locked as a writer holds it, though its name claims a dead process and it is old.
        var locked = Path.Combine(store.TempDirectory, $"layer-{DeadPid()}-{Guid.NewGuid():N}");
        await using var writer = new FileStream(locked, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        await writer.WriteAsync("partial"u8.ToArray());
        await writer.FlushAsync();
        Age(locked);

        // Unlocked and old, but owned by a live process that started before it was written (pid 1 stands for a
        // run that is still going): a daemon archive waiting for `podman load`.
        var livePid = Path.Combine(store.TempDirectory, $"daemon-1-{Guid.NewGuid():N}.tar");
        await File.WriteAllTextAsync(livePid, "archive");
        Age(livePid);

        // Unlocked, dead owner, but younger than the run: it may be being renamed into place right now.
        var recent = Path.Combine(store.TempDirectory, $"layer-{DeadPid()}-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(recent, "just written");

        _ = new ContentStore(root);

        Assert.True(File.Exists(locked));
        Assert.True(File.Exists(livePid));
        Assert.True(File.Exists(recent));
    }

    /// <summary>A process id that no process has now (the kernel's limit is far below it).</summary>
    internal static int DeadPid()
    {
        for (var pid = 4_000_000; ; pid++)
        {
            if (!Directory.Exists($"/proc/{pid}"))
            {
                return pid;
            }
        }
    }

    /// <summary>Makes a file look written an hour ago, as a leftover of an earlier run is.</summary>
    internal static void Age(string path)
    {
        var past = DateTime.UtcNow.AddHours(-1);
        if (Directory.Exists(path))
        {
            Directory.SetLastWriteTimeUtc(path, past);
        }
        else
        {
            File.SetLastWriteTimeUtc(path, past);
        }
    }
}
