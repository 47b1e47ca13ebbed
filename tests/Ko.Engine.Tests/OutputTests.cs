using System.Text.Json;
using Ko.Engine.Images;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using Ko.Engine.Publishing;
using Ko.Engine.Util;
using Ko.Engine.Sinks;

namespace Ko.Engine.Tests;

public sealed class OutputTests : IDisposable
{
    private const string Name = "ko.local/hello-0123";
    private readonly TempDir _dir = new();
    private readonly TempDir _cacheDir = new();
    private readonly ContentStore _store;
    private readonly LayerCache _cache;

    public OutputTests()
    {
        _store = new ContentStore(_cacheDir.Path);
        _cache = new LayerCache(_store);
    }

    public void Dispose()
    {
        _dir.Dispose();
        _cacheDir.Dispose();
    }

    private async Task<(FileLayer Kodata, FileLayer Binary)> LayersAsync(string binaryContent)
    {
        var src = Path.Combine(_cacheDir.Path, "src-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(src, "kodata"));
        await File.WriteAllTextAsync(Path.Combine(src, "kodata", "index.html"), "hi");
        var bin = Path.Combine(src, "hello");
        await File.WriteAllTextAsync(bin, binaryContent);
        var kodata = await AppLayers.KodataLayerAsync(_store, _cache, src, 0, CancellationToken.None);
        var binary = await AppLayers.BinaryLayerAsync(_store, _cache, bin, "hello", 0, CancellationToken.None);
        return (kodata.Layer, binary.Layer);
    }

    private static async Task<IImage> AssembleAsync(ILayer kodata, ILayer binary, Platform? platform = null)
    {
        var baseImage = await SyntheticBase.Scratch().GetImageAsync(platform ?? new Platform("linux", "amd64"), CancellationToken.None);
        return ImageAssembler.Assemble(baseImage, "scratch", kodata, binary, new AppImageSpec { ImportPath = "example.com/hello", AppPath = "/ko-app/hello" });
    }

    private async Task<NamedArtifact> GoodImageAsync(string binaryContent = "binary v1", string name = Name)
    {
        var (kodata, binary) = await LayersAsync(binaryContent);
        return new NamedArtifact("example.com/hello", name, await AssembleAsync(kodata, binary));
    }

    private async Task<NamedArtifact> FailingImageAsync()
    {
        var (kodata, _) = await LayersAsync("unused");
        return new NamedArtifact("example.com/hello", Name, await AssembleAsync(kodata, new FailingLayer()));
    }

    private static JsonElement ReadJson(string path) => JsonDocument.Parse(File.ReadAllBytes(path)).RootElement.Clone();

    private static List<(string RefName, JsonElement Entry)> IndexEntries(string layout) =>
        ReadJson(Path.Combine(layout, "index.json")).GetProperty("manifests").EnumerateArray()
            .Select(m => (m.GetProperty("annotations").GetProperty(AnnotationKeys.RefName).GetString()!, m))
            .ToList();

    private static IEnumerable<Digest> AllDigests(NamedArtifact built)
    {
        foreach (var image in built.Images)
        {
            foreach (var layer in image.Layers)
            {
                yield return layer.Descriptor.Digest;
            }

            yield return image.Manifest.Config.Digest;
            yield return image.Digest;
        }

        if (built.Index is not null)
        {
            yield return built.Index.Digest;
        }
    }

    private static void AssertBlobsAreContentAddressed(string layout, NamedArtifact built)
    {
        var blobDir = Path.Combine(layout, "blobs", "sha256");
        foreach (var file in Directory.GetFiles(blobDir))
        {
            Assert.Equal(Path.GetFileName(file), TestUtil.Sha256Hex(File.ReadAllBytes(file)));
        }

        foreach (var digest in AllDigests(built))
        {
            Assert.True(File.Exists(Path.Combine(blobDir, digest.Hex)), $"blob {digest} is missing");
        }
    }

    private IReadOnlyList<string> TempLeftovers() => _dir.AllFiles().Concat(Directory.EnumerateDirectories(_dir.Path, "*", SearchOption.AllDirectories)).Where(p => p.Contains(".tmp-", StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task An_output_naming_a_character_device_is_written_into_it_not_replaced()
    {
        // --image-refs /dev/stdout (a link to a pipe or terminal) or /dev/null: renaming a temp over it would replace
        // the device node (as root, /dev/null itself) with a regular file.
        var link = _dir.Combine("stdout");
        File.CreateSymbolicLink(link, "/dev/null");

        await AtomicOutput.WriteFileAsync(link, (s, ct) => s.WriteAsync("ref\n"u8.ToArray(), ct).AsTask(), CancellationToken.None);

        Assert.Equal("/dev/null", new FileInfo(link).LinkTarget);
        Assert.Equal(["stdout"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_full_device_as_output_is_an_error_not_success()
    {
        var link = _dir.Combine("full");
        File.CreateSymbolicLink(link, "/dev/full");

        var ex = await Assert.ThrowsAsync<KoException>(() => AtomicOutput.WriteFileAsync(link, (s, ct) => s.WriteAsync("ref\n"u8.ToArray(), ct).AsTask(), CancellationToken.None));

        Assert.Equal(KoErrorCodes.OutputNotWritable, ex.Code);
        Assert.Equal("/dev/full", new FileInfo(link).LinkTarget);
    }

    [Fact]
    public async Task New_layout_has_layout_file_index_and_every_blob()
    {
        var built = await GoodImageAsync();
        var layout = _dir.Combine("out", "layout");

        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["latest"])], CancellationToken.None);

        Assert.Equal("1.0.0", ReadJson(Path.Combine(layout, "oci-layout")).GetProperty("imageLayoutVersion").GetString());
        var index = ReadJson(Path.Combine(layout, "index.json"));
        Assert.Equal(2, index.GetProperty("schemaVersion").GetInt32());
        var (refName, entry) = Assert.Single(IndexEntries(layout));
        Assert.Equal($"{Name}:latest", refName);
        Assert.Equal(built.Digest.ToString(), entry.GetProperty("digest").GetString());
        Assert.Equal(TestUtil.Sha256Ref(built.Image!.ManifestBytes.ToArray()), entry.GetProperty("digest").GetString());
        Assert.Equal(built.Image.ManifestBytes.Length, entry.GetProperty("size").GetInt64());
        Assert.Equal(MediaTypes.OciManifest, entry.GetProperty("mediaType").GetString());
        AssertBlobsAreContentAddressed(layout, built);
        Assert.Equal(4, Directory.GetFiles(Path.Combine(layout, "blobs", "sha256")).Length); // 2 layers, config, manifest
        Assert.Empty(TempLeftovers());
    }

    [Fact]
    public async Task An_existing_layout_is_written_into_when_the_directory_around_it_cannot_be_written()
    {
        // A layout on a volume mounted into a directory the build may not write (a container's /out under a
        // read-only /): only the layout itself is written, so that must be enough. chattr +i makes the directory
        // unwritable even for root, while the layout inside stays writable.
        var parent = _dir.Combine("mounted");
        var layout = Path.Combine(parent, "layout");
        var v1 = await GoodImageAsync("binary v1");
        var v2 = await GoodImageAsync("binary v2");
        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(v1, ["v1"])], CancellationToken.None);
        Immutable(parent, true);
        try
        {
            await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(v2, ["v2"])], CancellationToken.None);
        }
        finally
        {
            Immutable(parent, false);
        }

        var entries = IndexEntries(layout).ToDictionary(e => e.RefName, e => e.Entry.GetProperty("digest").GetString());
        Assert.Equal(v1.Digest.ToString(), entries[$"{Name}:v1"]);
        Assert.Equal(v2.Digest.ToString(), entries[$"{Name}:v2"]);
        Assert.Equal(["blobs", "index.json", "oci-layout"], Directory.EnumerateFileSystemEntries(layout).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_layout_path_written_with_a_trailing_slash_is_created_and_locked_beside_it()
    {
        // --oci-layout-path=out/ names the directory out, as a shell's completion writes it.
        var layout = _dir.Combine("slashed");
        var built = await GoodImageAsync();
        await OciLayoutWriter.WriteAsync(layout + "/", [new TaggedImage(built, ["latest"])], CancellationToken.None);

        Assert.Equal($"{Name}:latest", Assert.Single(IndexEntries(layout)).RefName);
        Assert.Equal(["blobs", "index.json", "oci-layout"], Directory.EnumerateFileSystemEntries(layout).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        await OciLayoutWriter.WriteAsync(layout + "/", [new TaggedImage(built, ["v2"])], CancellationToken.None);
        Assert.Equal(2, IndexEntries(layout).Count);
        Assert.Equal(["blobs", "index.json", "oci-layout"], Directory.EnumerateFileSystemEntries(layout).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(TempLeftovers());
    }

    private static void Immutable(string directory, bool on)
    {
        using var chattr = System.Diagnostics.Process.Start("chattr", [on ? "+i" : "-i", directory]);
        chattr.WaitForExit();
        Assert.True(chattr.ExitCode == 0, $"this test needs chattr and root (CAP_LINUX_IMMUTABLE) on an ext4 or similar file system to make {directory} unwritable");
    }

    [Fact]
    public async Task Writing_another_tag_keeps_earlier_entries_and_same_name_is_replaced()
    {
        var v1 = await GoodImageAsync("binary v1");
        var v2 = await GoodImageAsync("binary v2");
        Assert.NotEqual(v1.Digest, v2.Digest);
        var layout = _dir.Combine("layout");

        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(v1, ["latest", "v1"])], CancellationToken.None);
        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(v2, ["latest", "v2"])], CancellationToken.None);

        var entries = IndexEntries(layout).ToDictionary(e => e.RefName, e => e.Entry.GetProperty("digest").GetString());
        Assert.Equal(3, entries.Count);
        Assert.Equal(v1.Digest.ToString(), entries[$"{Name}:v1"]);
        Assert.Equal(v2.Digest.ToString(), entries[$"{Name}:v2"]);
        Assert.Equal(v2.Digest.ToString(), entries[$"{Name}:latest"]); // the newer image takes the name
        AssertBlobsAreContentAddressed(layout, v1);
        AssertBlobsAreContentAddressed(layout, v2);
        Assert.Empty(TempLeftovers());
    }

    [Fact]
    public async Task Index_image_is_written_with_its_children()
    {
        var (kodata, binary) = await LayersAsync("multi");
        var amd64 = await AssembleAsync(kodata, binary, new Platform("linux", "amd64"));
        var arm64 = await AssembleAsync(kodata, binary, new Platform("linux", "arm64"));
        var index = ImageAssembler.AssembleIndex([amd64, arm64], SyntheticBase.Scratch(), new Dictionary<string, string>());
        var built = new NamedArtifact("example.com/hello", Name, index);
        var layout = _dir.Combine("layout");

        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["latest"])], CancellationToken.None);

        var (_, entry) = Assert.Single(IndexEntries(layout));
        Assert.Equal(MediaTypes.OciIndex, entry.GetProperty("mediaType").GetString());
        Assert.Equal(index.Digest.ToString(), entry.GetProperty("digest").GetString());
        Assert.Equal(index.IndexBytes.Length, entry.GetProperty("size").GetInt64());
        AssertBlobsAreContentAddressed(layout, built);
    }

    [Fact]
    public async Task Failure_into_existing_layout_keeps_index_and_leaves_no_temp_files()
    {
        var layout = _dir.Combine("layout");
        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(await GoodImageAsync(), ["latest"])], CancellationToken.None);
        var indexBefore = await File.ReadAllBytesAsync(Path.Combine(layout, "index.json"));
        var failing = await FailingImageAsync();

        var ex = await Assert.ThrowsAsync<KoException>(() => OciLayoutWriter.WriteAsync(layout, [new TaggedImage(failing, ["v3"])], CancellationToken.None));

        Assert.Equal(KoErrorCodes.OutputNotWritable, ex.Code);
        Assert.Equal(indexBefore, await File.ReadAllBytesAsync(Path.Combine(layout, "index.json")));
        Assert.Empty(TempLeftovers());
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(layout, "blobs", "sha256")), f => Path.GetFileName(f) == FailingLayer.Digest.Hex);
    }

    [Fact]
    public async Task Failure_into_new_directory_creates_nothing()
    {
        var layout = _dir.Combine("layout");
        var failing = await FailingImageAsync();

        await Assert.ThrowsAsync<KoException>(() => OciLayoutWriter.WriteAsync(layout, [new TaggedImage(failing, ["latest"])], CancellationToken.None));

        Assert.False(Directory.Exists(layout));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path));
    }

    [Fact]
    public async Task Non_empty_directory_that_is_not_a_layout_is_refused()
    {
        _dir.WriteFile("notlayout/readme.txt", "mine");

        var ex = await Assert.ThrowsAsync<KoException>(async () => await OciLayoutWriter.WriteAsync(_dir.Combine("notlayout"), [new TaggedImage(await GoodImageAsync(), ["latest"])], CancellationToken.None));

        Assert.Equal(KoErrorCodes.OutputNotWritable, ex.Code);
        Assert.Equal(["notlayout/readme.txt"], _dir.AllFiles());
    }

    [Fact]
    public async Task Empty_existing_directory_becomes_a_layout()
    {
        var layout = _dir.Combine("empty");
        Directory.CreateDirectory(layout);
        var built = await GoodImageAsync();

        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["latest"])], CancellationToken.None);

        Assert.True(File.Exists(Path.Combine(layout, "oci-layout")));
        AssertBlobsAreContentAddressed(layout, built);
    }

    [Fact]
    public async Task Oci_archive_is_a_tar_of_a_layout()
    {
        var built = await GoodImageAsync();
        var archive = _dir.Combine("image.tar");

        await OciArchiveWriter.WriteAsync(archive, [new TaggedImage(built, ["v1"])], CancellationToken.None);

        var entries = TestUtil.ReadTar(await File.ReadAllBytesAsync(archive)).ToDictionary(e => e.Entry.Name);
        Assert.Contains("oci-layout", entries.Keys);
        Assert.Contains("index.json", entries.Keys);
        Assert.Contains("blobs/", entries.Keys);
        Assert.Contains("blobs/sha256/", entries.Keys);
        Assert.Equal("1.0.0", JsonDocument.Parse(entries["oci-layout"].Data).RootElement.GetProperty("imageLayoutVersion").GetString());

        var index = JsonDocument.Parse(entries["index.json"].Data).RootElement;
        var entry = Assert.Single(index.GetProperty("manifests").EnumerateArray().ToList());
        Assert.Equal($"{Name}:v1", entry.GetProperty("annotations").GetProperty(AnnotationKeys.RefName).GetString());
        Assert.Equal(built.Digest.ToString(), entry.GetProperty("digest").GetString());

        var blobs = entries.Where(e => e.Key.StartsWith("blobs/sha256/", StringComparison.Ordinal) && e.Key.Length > "blobs/sha256/".Length).ToList();
        Assert.Equal(AllDigests(built).Select(d => d.Hex).Order(StringComparer.Ordinal), blobs.Select(b => b.Key["blobs/sha256/".Length..]).Order(StringComparer.Ordinal));
        Assert.All(blobs, b => Assert.Equal(b.Key["blobs/sha256/".Length..], TestUtil.Sha256Hex(b.Value.Data)));
        Assert.Empty(TempLeftovers());
    }

    [Fact]
    public async Task Failed_archive_leaves_the_previous_file_byte_identical()
    {
        var archive = _dir.Combine("image.tar");
        await OciArchiveWriter.WriteAsync(archive, [new TaggedImage(await GoodImageAsync(), ["latest"])], CancellationToken.None);
        var before = await File.ReadAllBytesAsync(archive);
        var failing = await FailingImageAsync();

        await Assert.ThrowsAsync<KoException>(() => OciArchiveWriter.WriteAsync(archive, [new TaggedImage(failing, ["latest"])], CancellationToken.None));

        Assert.Equal(before, await File.ReadAllBytesAsync(archive));
        Assert.Equal(["image.tar"], _dir.AllFiles());
    }

    [Fact]
    public async Task Docker_archive_has_manifest_config_and_layers()
    {
        var built = await GoodImageAsync();
        var image = built.Image!;
        var path = _dir.Combine("docker.tar");

        await DockerArchiveWriter.WriteAsync(path, [(image, [$"{Name}:latest"])], CancellationToken.None);

        var entries = TestUtil.ReadTar(await File.ReadAllBytesAsync(path)).ToDictionary(e => e.Entry.Name, e => e.Data);
        var manifest = Assert.Single(JsonDocument.Parse(entries["manifest.json"]).RootElement.EnumerateArray().ToList());
        var configName = manifest.GetProperty("Config").GetString()!;
        Assert.Equal(image.ConfigBytes.ToArray(), entries[configName]);
        Assert.Equal([$"{Name}:latest"], manifest.GetProperty("RepoTags").EnumerateArray().Select(t => t.GetString()));
        var layers = manifest.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!).ToList();
        Assert.Equal(image.Layers.Count, layers.Count);
        foreach (var (name, layer) in layers.Zip(image.Layers))
        {
            Assert.Equal(TestUtil.Sha256Ref(entries[name]), layer.Descriptor.Digest.ToString());
        }

        // As docker save of Docker 25+, the archive is also an OCI layout whose index names the manifest itself, so
        // reading it back gives the image's own digest.
        Assert.Equal("{\"imageLayoutVersion\":\"1.0.0\"}", System.Text.Encoding.UTF8.GetString(entries["oci-layout"]));
        var entry = Assert.Single(JsonDocument.Parse(entries["index.json"]).RootElement.GetProperty("manifests").EnumerateArray().ToList());
        Assert.Equal(image.Digest.ToString(), entry.GetProperty("digest").GetString());
        Assert.Equal($"{Name}:latest", entry.GetProperty("annotations").GetProperty("io.containerd.image.name").GetString());
        Assert.Equal("latest", entry.GetProperty("annotations").GetProperty(AnnotationKeys.RefName).GetString());
        Assert.Equal(image.ManifestBytes.ToArray(), entries[$"blobs/sha256/{image.Digest.Hex}"]);
        Assert.Equal($"blobs/sha256/{image.Manifest.Config.Digest.Hex}", configName);
    }

    [Fact]
    public async Task Corrupt_blob_of_the_right_size_in_an_existing_layout_is_replaced()
    {
        var layout = _dir.Combine("layout");
        var built = await GoodImageAsync();
        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["v1"])], CancellationToken.None);
        var blob = Path.Combine(layout, "blobs", "sha256", built.Image!.Layers[^1].Descriptor.Digest.Hex);
        var bytes = await File.ReadAllBytesAsync(blob);
        bytes[bytes.Length / 2] ^= 0xff;
        File.Delete(blob); // the layout's name only: the cache's file it is linked to stays as it was
        await File.WriteAllBytesAsync(blob, bytes);

        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["v2"])], CancellationToken.None);

        AssertBlobsAreContentAddressed(layout, built);
    }

    [Fact]
    public async Task Corrupt_config_of_the_right_size_in_an_existing_layout_is_replaced()
    {
        // A small blob (config, manifest) is checked by the managed hash; a flipped byte must still be caught.
        var layout = _dir.Combine("layout");
        var built = await GoodImageAsync();
        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["v1"])], CancellationToken.None);
        var blob = Path.Combine(layout, "blobs", "sha256", built.Image!.Manifest.Config.Digest.Hex);
        var bytes = await File.ReadAllBytesAsync(blob);
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(blob, bytes);

        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["v2"])], CancellationToken.None);

        Assert.Equal(built.Image.ConfigBytes.ToArray(), await File.ReadAllBytesAsync(blob));
        AssertBlobsAreContentAddressed(layout, built);
    }

    [Fact]
    public async Task A_write_through_a_layout_link_into_the_cached_blob_fails_the_next_layout_write_and_leaves_the_cache()
    {
        var layout = _dir.Combine("layout");
        var built = await GoodImageAsync();
        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["v1"])], CancellationToken.None);
        var cached = Assert.IsType<FileLayer>(built.Image!.Layers[^1]);
        var blob = Path.Combine(layout, "blobs", "sha256", cached.Descriptor.Digest.Hex);
        Assert.True(Ko.Engine.Util.BlobFiles.AreSameFile(blob, cached.Path)); // linked, not copied
        var bytes = await File.ReadAllBytesAsync(blob);
        bytes[bytes.Length / 2] ^= 0xff;
        await File.WriteAllBytesAsync(blob, bytes); // in place (as root, the read-only mode does not stop it)

        var ex = await Assert.ThrowsAsync<KoException>(() => OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["v2"])], CancellationToken.None));

        Assert.Equal(KoErrorCodes.CacheUnusable, ex.Code);
        Assert.Contains(cached.Descriptor.Digest.ToString(), ex.Message);
        Assert.False(File.Exists(cached.Path));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Concurrent_writers_with_different_tags_all_land(bool existingLayout)
    {
        var built = await GoodImageAsync();
        for (var round = 0; round < 5; round++)
        {
            var layout = _dir.Combine($"layout-{round}");
            if (existingLayout)
            {
                await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["first"])], CancellationToken.None);
            }

            var tags = Enumerable.Range(0, 6).Select(i => $"t{i}").ToList();
            using var start = new ManualResetEventSlim();
            var writers = tags.Select(tag => Task.Run(async () =>
            {
                start.Wait();
                await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, [tag])], CancellationToken.None);
            })).ToList();
            start.Set();
            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromMinutes(2));

            var names = IndexEntries(layout).Select(e => e.RefName).Order(StringComparer.Ordinal).ToList();
            var expected = tags.Concat(existingLayout ? ["first"] : []).Select(t => $"{Name}:{t}").Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, names);
            AssertBlobsAreContentAddressed(layout, built);
        }

        Assert.Empty(TempLeftovers());
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(_dir.Path), p => p.EndsWith(".lock", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_layout_locked_by_another_run_is_waited_for_and_then_a_clear_timeout()
    {
        var layout = _dir.Combine("layout");
        var built = await GoodImageAsync();
        await using (var other = new FileStream(OciLayoutWriter.LockPath(Path.GetFullPath(layout)), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<KoException>(() => OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["latest"])], CancellationToken.None, lockTimeout: TimeSpan.FromSeconds(1)));

            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(30));
            Assert.Equal("KO3013", ex.Code);
            Assert.Contains(Path.GetFullPath(layout), ex.Message);
            Assert.Contains("another", ex.Message);

            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["latest"])], cancel.Token));
            Assert.False(Directory.Exists(layout));
        }

        // Released: the next writer goes ahead.
        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["latest"])], CancellationToken.None, lockTimeout: TimeSpan.FromSeconds(5));
        Assert.Single(IndexEntries(layout));
    }

    [Fact]
    public async Task Temporaries_left_by_a_killed_layout_writer_are_removed_by_the_next_one()
    {
        var layout = _dir.Combine("lay");
        var built = await GoodImageAsync();
        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["v1"])], CancellationToken.None);
        var dead = CacheFaultTests.DeadPid();
        var besideDir = _dir.Combine($".lay.tmp-{dead}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(besideDir, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(besideDir, "blobs", "sha256", "partial"), "x");
        var blobTemp = Path.Combine(layout, "blobs", "sha256", $"{built.Digest.Hex}.tmp-{Guid.NewGuid():N}");
        File.WriteAllText(blobTemp, "half a blob");
        var indexTemp = Path.Combine(layout, $".index.json.tmp-{Guid.NewGuid():N}");
        File.WriteAllText(indexTemp, "{");
        foreach (var p in new[] { besideDir, blobTemp, indexTemp })
        {
            CacheFaultTests.Age(p);
        }

        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["v2"])], CancellationToken.None);

        Assert.Empty(TempLeftovers());
        Assert.Equal([$"{Name}:v1", $"{Name}:v2"], IndexEntries(layout).Select(e => e.RefName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Archive_temporaries_of_dead_runs_are_removed_and_a_live_one_is_kept()
    {
        var archive = _dir.Combine("docker.tar");
        var stale = _dir.Combine($".docker.tar.tmp-{CacheFaultTests.DeadPid()}-{Guid.NewGuid():N}");
        File.WriteAllText(stale, "half an archive");
        CacheFaultTests.Age(stale);
        var live = _dir.Combine($".docker.tar.tmp-{CacheFaultTests.DeadPid()}-{Guid.NewGuid():N}");
        await using var writer = new FileStream(live, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        CacheFaultTests.Age(live);

        await DockerArchiveWriter.WriteAsync(archive, [((await GoodImageAsync()).Image!, [$"{Name}:latest"])], CancellationToken.None);

        Assert.False(File.Exists(stale), "a dead run's temp must be removed");
        Assert.True(File.Exists(live), "a live run's temp (locked) must be kept");
        Assert.True(File.Exists(archive));
    }

    /// <summary>A layer whose compressed stream yields some bytes, then fails as a broken disk or connection would.</summary>
    private sealed class FailingLayer : ILayer
    {
        public static readonly Digest Digest = Digest.Sha256("never completes"u8);

        public Descriptor Descriptor { get; } = new(MediaTypes.OciLayerGzip, Digest, 1 << 20);

        public Digest DiffId { get; } = Digest.Sha256("never completes (tar)"u8);

        public ValueTask<Stream> OpenCompressedAsync(CancellationToken cancellationToken) => ValueTask.FromResult<Stream>(new FailingStream());
    }

    private sealed class FailingStream : Stream
    {
        private int _reads;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_reads++ < 2)
            {
                var n = Math.Min(buffer.Length, 4096);
                buffer[..n].Fill(0x42);
                return n;
            }

            throw new IOException("simulated read failure");
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
