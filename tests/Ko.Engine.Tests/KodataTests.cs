using Ko.Engine.Layers;

namespace Ko.Engine.Tests;

public sealed class KodataTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Kodata => _dir.Combine("pkg", "kodata");

    [Fact]
    public void EntriesAreNestedHiddenIncludedAndOrdinallySorted()
    {
        _dir.WriteFile("pkg/kodata/a.txt", "a");
        _dir.WriteFile("pkg/kodata/a/b.txt", "b");
        _dir.WriteFile("pkg/kodata/a/deeper/c.txt", "c");
        _dir.WriteFile("pkg/kodata/B.txt", "B");
        _dir.WriteFile("pkg/kodata/.hidden", "secret");
        Directory.CreateDirectory(_dir.Combine("pkg", "kodata", "empty"));

        var entries = AppLayers.KodataEntries(Kodata);

        // Ordinal: '.' (0x2e) < '/' (0x2f) < 'B' (0x42) < 'a' (0x61).
        Assert.Equal([".hidden", "B.txt", "a", "a.txt", "a/b.txt", "a/deeper", "a/deeper/c.txt", "empty"], entries.Select(e => e.RelativePath));
        var byPath = entries.ToDictionary(e => e.RelativePath);
        Assert.Null(byPath["a"].SourcePath);
        Assert.Null(byPath["a/deeper"].SourcePath);
        Assert.Null(byPath["empty"].SourcePath);
        Assert.Equal("secret", File.ReadAllText(byPath[".hidden"].SourcePath!));
        Assert.Equal("c", File.ReadAllText(byPath["a/deeper/c.txt"].SourcePath!));
    }

    [Fact]
    public void MissingKodataHasNoEntries()
    {
        Assert.Empty(AppLayers.KodataEntries(Kodata));
    }

    [Fact]
    public void SymlinkToAFileInsideTheTreeIsFollowed()
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
    public void DanglingSymlinkIsKo2005NamingTheLink()
    {
        _dir.WriteFile("pkg/kodata/ok.txt", "ok");
        var linkPath = _dir.Combine("pkg", "kodata", "broken.txt");
        File.CreateSymbolicLink(linkPath, "nowhere.txt");

        var ex = Assert.Throws<KoException>(() => AppLayers.KodataEntries(Kodata));
        Assert.Equal("KO2005", ex.Code);
        Assert.Contains(linkPath, ex.Message);
    }

    [Fact]
    public async Task PackageWithoutKodataStillGetsTheKoDataDirectory()
    {
        using var storeDir = new TempDir();
        var store = new ContentStore(storeDir.Path);
        Directory.CreateDirectory(_dir.Combine("pkg"));

        var result = await AppLayers.KodataLayerAsync(store, new LayerCache(store), _dir.Combine("pkg"), 1_700_000_000, CancellationToken.None);

        var entries = TestUtil.ReadTar(TestUtil.Gunzip(await File.ReadAllBytesAsync(result.Layer.Path)));
        var (entry, _) = Assert.Single(entries);
        Assert.Equal("var/run/ko/", entry.Name);
        Assert.Equal(System.Formats.Tar.TarEntryType.Directory, entry.EntryType);
        Assert.Equal(TestUtil.Octal("555"), (int)entry.Mode);
        Assert.Equal(0, entry.Uid);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), entry.ModificationTime);
    }

    [Fact]
    public async Task KodataLayerHoldsTheTreeUnderVarRunKoAndIsCachedUntilContentChanges()
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
        Assert.Equal(["var/run/ko/", "var/run/ko/index.html", "var/run/ko/static/", "var/run/ko/static/app.js"], entries.Select(e => e.Entry.Name));
        Assert.Equal("<h1>v1</h1>"u8.ToArray(), entries[1].Data);
        Assert.Equal("js"u8.ToArray(), entries[3].Data);
        Assert.All(entries, e => Assert.Equal(TestUtil.Octal("555"), (int)e.Entry.Mode));
    }
}
