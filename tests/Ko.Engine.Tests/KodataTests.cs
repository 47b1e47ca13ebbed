using Ko.Engine.Layers;

namespace Ko.Engine.Tests;

public sealed class KodataTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Kodata => _dir.Combine("pkg", "kodata");

    [Fact]
    public void Entries_are_nested_hidden_included_and_in_go_filepath_walk_order()
    {
        _dir.WriteFile("pkg/kodata/a.txt", "a");
        _dir.WriteFile("pkg/kodata/a/b.txt", "b");
        _dir.WriteFile("pkg/kodata/a/deeper/c.txt", "c");
        _dir.WriteFile("pkg/kodata/B.txt", "B");
        _dir.WriteFile("pkg/kodata/.hidden", "secret");
        Directory.CreateDirectory(_dir.Combine("pkg", "kodata", "empty"));

        var entries = AppLayers.KodataEntries(Kodata);

        // ko walks kodata with Go's filepath.Walk (pkg/build/gobuild.go walkRecursive): each directory's names in byte
        // order ('.' < 'B' < 'a'), a directory's contents right after it, so a/... comes before a.txt.
        Assert.Equal([".hidden", "B.txt", "a", "a/b.txt", "a/deeper", "a/deeper/c.txt", "a.txt", "empty"], entries.Select(e => e.RelativePath));
        var byPath = entries.ToDictionary(e => e.RelativePath);
        Assert.Null(byPath["a"].SourcePath);
        Assert.Null(byPath["a/deeper"].SourcePath);
        Assert.Null(byPath["empty"].SourcePath);
        Assert.Equal("secret", File.ReadAllText(byPath[".hidden"].SourcePath!));
        Assert.Equal("c", File.ReadAllText(byPath["a/deeper/c.txt"].SourcePath!));
    }

    [Fact]
    public void Missing_kodata_has_no_entries()
    {
        Assert.Empty(AppLayers.KodataEntries(Kodata));
    }

    [Fact]
    public void Symlink_to_a_file_inside_the_tree_is_followed()
    {
        var target = _dir.WriteFile("pkg/kodata/real/data.txt", "real content");
        File.CreateSymbolicLink(_dir.Combine("pkg", "kodata", "link.txt"), Path.Combine("real", "data.txt"));

        var entries = AppLayers.KodataEntries(Kodata);

        var link = Assert.Single(entries, e => e.RelativePath == "link.txt");
        Assert.NotNull(link.SourcePath);
        Assert.Equal("real content", File.ReadAllText(link.SourcePath));
        Assert.Equal(Path.GetFullPath(target), Path.GetFullPath(link.SourcePath));
        Assert.Contains(entries, e => e.RelativePath == "real/data.txt");
    }

    [Fact]
    public void Symlink_to_a_directory_inside_the_tree_is_walked_as_a_directory_with_its_files_read_through_it()
    {
        var target = _dir.WriteFile("pkg/kodata/real/sub/data.txt", "through the link");
        Directory.CreateSymbolicLink(_dir.Combine("pkg", "kodata", "alias"), "real");

        var entries = AppLayers.KodataEntries(Kodata);

        // As Go's filepath.Walk in ko's walkRecursive: the link is a directory entry and its contents follow it.
        Assert.Equal(["alias", "alias/sub", "alias/sub/data.txt", "real", "real/sub", "real/sub/data.txt"], entries.Select(e => e.RelativePath));
        var byPath = entries.ToDictionary(e => e.RelativePath);
        Assert.Null(byPath["alias"].SourcePath);
        Assert.Equal("through the link", File.ReadAllText(byPath["alias/sub/data.txt"].SourcePath!));
        Assert.NotNull(byPath["alias/sub/data.txt"].Stat);
        Assert.Equal(byPath["real/sub/data.txt"].Stat, byPath["alias/sub/data.txt"].Stat);
        Assert.Equal(Path.GetFullPath(target), Path.GetFullPath(byPath["real/sub/data.txt"].SourcePath!));
    }

    [Fact]
    public void Symlink_back_to_a_directory_that_contains_it_is_KO2005_naming_the_loop()
    {
        _dir.WriteFile("pkg/kodata/a/ok.txt", "ok");
        var link = _dir.Combine("pkg", "kodata", "a", "up");
        Directory.CreateSymbolicLink(link, "..");

        var ex = Assert.Throws<KoException>(() => AppLayers.KodataEntries(Kodata));

        Assert.Equal("KO2005", ex.Code);
        Assert.Contains(link, ex.Message);
        Assert.Contains("links back to", ex.Message);
    }

    [Fact]
    public void Dangling_symlink_is_KO2005_naming_the_link()
    {
        _dir.WriteFile("pkg/kodata/ok.txt", "ok");
        var linkPath = _dir.Combine("pkg", "kodata", "broken.txt");
        File.CreateSymbolicLink(linkPath, "nowhere.txt");

        var ex = Assert.Throws<KoException>(() => AppLayers.KodataEntries(Kodata));
        Assert.Equal("KO2005", ex.Code);
        Assert.Contains(linkPath, ex.Message);
    }

    [Fact]
    public async Task Package_without_kodata_still_gets_var_var_run_and_var_run_ko_at_0555()
    {
        // ko pkg/build/gobuild.go tarKoData: /var, /var/run and /var/run/ko are always written, mode 0555, dated by
        // the kodata time.
        using var storeDir = new TempDir();
        var store = new ContentStore(storeDir.Path);
        Directory.CreateDirectory(_dir.Combine("pkg"));

        var result = await AppLayers.KodataLayerAsync(store, new LayerCache(store), _dir.Combine("pkg"), 1_700_000_000, CancellationToken.None);

        var entries = TestUtil.ReadTar(TestUtil.Gunzip(await File.ReadAllBytesAsync(result.Layer.Path)));
        Assert.Equal(["/var", "/var/run", "/var/run/ko"], entries.Select(e => e.Entry.Name));
        Assert.All(entries, e =>
        {
            Assert.Equal(System.Formats.Tar.TarEntryType.Directory, e.Entry.EntryType);
            Assert.Equal(TestUtil.Octal("555"), (int)e.Entry.Mode);
            Assert.Equal(0, e.Entry.Uid);
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), e.Entry.ModificationTime);
        });
    }

    [Fact]
    public async Task Kodata_layer_holds_the_tree_under_var_run_ko_and_is_cached_until_content_changes()
    {
        using var storeDir = new TempDir();
        var store = new ContentStore(storeDir.Path);
        var cache = new LayerCache(store);
        _dir.WriteFile("pkg/kodata/index.html", "<h1>v1</h1>");
        _dir.WriteFile("pkg/kodata/static/app.js", "js");
        var pkg = _dir.Combine("pkg");

        var first = await AppLayers.KodataLayerAsync(store, cache, pkg, 0, CancellationToken.None);
        var again = await AppLayers.KodataLayerAsync(store, cache, pkg, 0, CancellationToken.None);
        _dir.WriteFile("pkg/kodata/index.html", "<h1>v2</h1>");
        var changed = await AppLayers.KodataLayerAsync(store, cache, pkg, 0, CancellationToken.None);

        Assert.False(first.FromCache);
        Assert.True(again.FromCache);
        Assert.Equal(first.Layer.Descriptor.Digest, again.Layer.Descriptor.Digest);
        Assert.False(changed.FromCache);
        Assert.NotEqual(first.Layer.Descriptor.Digest, changed.Layer.Descriptor.Digest);

        var entries = TestUtil.ReadTar(TestUtil.Gunzip(await File.ReadAllBytesAsync(first.Layer.Path)));
        Assert.Equal(["/var", "/var/run", "/var/run/ko", "/var/run/ko/index.html", "/var/run/ko/static", "/var/run/ko/static/app.js"], entries.Select(e => e.Entry.Name));
        Assert.Equal("<h1>v1</h1>"u8.ToArray(), entries[3].Data);
        Assert.Equal("js"u8.ToArray(), entries[5].Data);
        Assert.All(entries, e => Assert.Equal(TestUtil.Octal("555"), (int)e.Entry.Mode));
    }

    /// <summary>Runs a kodata walk and layer build with a bound: a special file must be an error, never a hang.</summary>
    private async Task<KoException> KodataFailsWithinAsync(string allowedRoot)
    {
        using var storeDir = new TempDir();
        var store = new ContentStore(storeDir.Path);
        var work = Task.Run(() => AppLayers.KodataLayerAsync(store, new LayerCache(store), _dir.Combine("pkg"), 0, CancellationToken.None, allowedRoot));
        var finished = await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.True(finished == work, "reading kodata hung on a special file");
        return await Assert.ThrowsAsync<KoException>(() => work);
    }

    [Fact]
    public async Task Fifo_in_kodata_is_KO2005_naming_it_and_never_opened()
    {
        _dir.WriteFile("pkg/kodata/ok.txt", "ok");
        var fifo = _dir.Combine("pkg", "kodata", "pipe");
        TestUtil.Run("mkfifo", fifo);
        try
        {
            var ex = await KodataFailsWithinAsync(_dir.Path);

            Assert.Equal("KO2005", ex.Code);
            Assert.Contains(fifo, ex.Message);
            Assert.Contains("FIFO", ex.Message);
            Assert.Contains("regular files", ex.Message);
        }
        finally
        {
            TestUtil.ReleaseFifoReaders(fifo);
        }
    }

    [Fact]
    public async Task Character_device_in_kodata_is_KO2005()
    {
        _dir.WriteFile("pkg/kodata/ok.txt", "ok");
        var device = _dir.Combine("pkg", "kodata", "zero");
        TestUtil.Run("mknod", device, "c", "1", "5");

        var ex = await KodataFailsWithinAsync(_dir.Path);

        Assert.Equal("KO2005", ex.Code);
        Assert.Contains(device, ex.Message);
        Assert.Contains("character device", ex.Message);
    }

    [Fact]
    public async Task Symlink_to_a_character_device_is_KO2005_naming_the_link()
    {
        var link = _dir.Combine("pkg", "kodata", "zero");
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        File.CreateSymbolicLink(link, "/dev/zero");

        // Even with every path allowed, a device is not data: reading /dev/zero never ends.
        var ex = await KodataFailsWithinAsync("/");

        Assert.Equal("KO2005", ex.Code);
        Assert.Contains(link, ex.Message);
        Assert.Contains("character device", ex.Message);
    }

    [Fact]
    public async Task Unix_socket_in_kodata_is_KO2005()
    {
        var path = _dir.Combine("pkg", "kodata", "sock");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));

        var ex = await KodataFailsWithinAsync(_dir.Path);

        Assert.Equal("KO2005", ex.Code);
        Assert.Contains(path, ex.Message);
        Assert.Contains("socket", ex.Message);
    }

    [Fact]
    public void Symlink_to_itself_is_KO2005_naming_the_link()
    {
        _dir.WriteFile("pkg/kodata/ok.txt", "ok");
        var link = _dir.Combine("pkg", "kodata", "self");
        File.CreateSymbolicLink(link, "self");

        var ex = Assert.Throws<KoException>(() => AppLayers.KodataEntries(Kodata));

        Assert.Equal("KO2005", ex.Code);
        Assert.Contains(link, ex.Message);
        Assert.Contains("loop", ex.Message);
    }

    [Fact]
    public void Symlinks_pointing_at_each_other_are_KO2005()
    {
        var a = _dir.Combine("pkg", "kodata", "a");
        var b = _dir.Combine("pkg", "kodata", "b");
        Directory.CreateDirectory(Path.GetDirectoryName(a)!);
        File.CreateSymbolicLink(a, "b");
        File.CreateSymbolicLink(b, "a");

        var ex = Assert.Throws<KoException>(() => AppLayers.KodataEntries(Kodata, _dir.Path));

        Assert.Equal("KO2005", ex.Code);
        Assert.True(ex.Message.Contains(a + " ", StringComparison.Ordinal) || ex.Message.Contains(b + " ", StringComparison.Ordinal), ex.Message);
        Assert.Contains("loop", ex.Message);
    }

    [Fact]
    public void Allowed_root_that_loops_is_KO2005()
    {
        var root = _dir.Combine("loop-root");
        File.CreateSymbolicLink(root, "loop-root");
        Directory.CreateDirectory(_dir.Combine("pkg"));

        var ex = Assert.Throws<KoException>(() => AppLayers.KodataAllowedRoot(_dir.Combine("pkg"), new Dictionary<string, string?> { ["KO_DATA_PATH_ALLOWED_ROOT"] = root }));

        Assert.Equal("KO2005", ex.Code);
        Assert.Contains(root, ex.Message);
    }

    [Fact]
    public async Task A_file_whose_bytes_differ_between_hashing_and_archiving_is_KO2005_and_not_cached()
    {
        // /proc files say they are empty but are not, and change on every read: what was hashed for the cache key is
        // not what would be archived. Such a layer must not be stored under that key.
        var link = _dir.Combine("pkg", "kodata", "stat");
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        File.CreateSymbolicLink(link, "/proc/self/stat");
        using var storeDir = new TempDir();
        var store = new ContentStore(storeDir.Path);

        var ex = await Assert.ThrowsAsync<KoException>(() => AppLayers.KodataLayerAsync(store, new LayerCache(store), _dir.Combine("pkg"), 0, CancellationToken.None, "/"));

        Assert.Equal("KO2005", ex.Code);
        Assert.Contains("kodata/stat (/proc/self/stat)", ex.Message);
        Assert.Contains("changed", ex.Message);
        Assert.False(Directory.Exists(Path.Combine(storeDir.Path, "layers")) && Directory.EnumerateFiles(Path.Combine(storeDir.Path, "layers")).Any(), "no cache entry may point at a layer that does not match its key");
    }

    [Fact]
    public void A_file_whose_name_is_not_utf_8_is_KO2005_saying_so()
    {
        _dir.WriteFile("pkg/kodata/ok.txt", "ok");
        TestUtil.Run("sh", "-c", "touch \"$1/$(printf 'bad\\377name')\"", "sh", Kodata);

        var ex = Assert.Throws<KoException>(() => AppLayers.KodataEntries(Kodata));

        Assert.Equal("KO2005", ex.Code);
        Assert.Contains(Kodata, ex.Message);
        Assert.Contains("UTF-8", ex.Message);
        Assert.DoesNotContain("kodata directory", ex.Message);
    }
}
