using System.Formats.Tar;
using TarEntryType = System.Formats.Tar.TarEntryType;
using System.Text;
using Ko.Engine.Images;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using Ko.Engine.Publishing;
using Ko.Engine.Sinks;
using Ko.Engine.Registry;
using Ko.Engine.Sources;

namespace Ko.Engine.Tests;

/// <summary>
/// Image sources read back what the writers here write, with the same digests; layouts and archives are outside
/// input, so each parser has bad-input twins (a broken tar, an entry past the end, names leaving the archive, links,
/// duplicates, a missing blob, a wrong digest found while streaming, a huge index.json, a manifest.json that is not a
/// list): a KO code naming the problem, no crash, no hang, no unbounded read.
/// </summary>
public sealed class ImageSourceTests : IDisposable
{
    private const string Name = "ko.local/app";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A two-platform index whose children share one real gzip layer (embedded:static's).</summary>
    private async Task<IImageIndex> IndexAsync()
    {
        var store = new ContentStore(_dir.Combine("cache"));
        var synthetic = await SyntheticBase.EmbeddedStaticAsync(store, new LayerCache(store), CancellationToken.None);
        var images = new List<IImage>();
        foreach (var p in new[] { new Platform("linux", "amd64"), new Platform("linux", "arm64") })
        {
            images.Add(await synthetic.GetImageAsync(p, CancellationToken.None));
        }

        var index = new Oci.Index(MediaTypes.OciIndex, images.Select(i => new Descriptor(i.MediaType, i.Digest, i.ManifestBytes.Length) { Platform = i.Platform }).ToList());
        return new ImageIndex(index.ToBytes(), images);
    }

    private static async Task<IArtifact> ReadAsync(string spec, string workingDirectory, bool stream = true)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var source = await ImageSources.OpenAsync(spec, workingDirectory, () => new RegistryOptions(), null, null, timeout.Token);
        var artifact = await source.ReadAsync(timeout.Token);
        if (stream)
        {
            foreach (var layer in artifact.Images.SelectMany(i => i.Layers))
            {
                await using var s = await layer.OpenCompressedAsync(timeout.Token);
                await s.CopyToAsync(Stream.Null, timeout.Token);
            }
        }

        return artifact;
    }

    private async Task<KoException> FailsAsync(string spec, string code, bool stream = true)
    {
        var work = Task.Run(() => ReadAsync(spec, _dir.Path, stream));
        var finished = await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(finished == work, $"reading {spec} hung");
        var ex = await Assert.ThrowsAsync<KoException>(() => work);
        Assert.True(ex.Code == code, $"expected {code}, got {ex.Code}: {ex.Message}");
        return ex;
    }

    private async Task<string> OciArchiveAsync(IImageIndex index, string file = "o.tar")
    {
        var path = _dir.Combine(file);
        await OciArchiveWriter.WriteAsync(path, [new TaggedImage(new NamedArtifact("example.com/app", Name, index), ["latest"])], CancellationToken.None);
        return path;
    }

    /// <summary>The entries of a good archive, to change and write again with the BCL's tar writer.</summary>
    private static List<(string Name, TarEntryType Type, byte[] Data, string? Link)> Entries(string archive) =>
        TestUtil.ReadTar(File.ReadAllBytes(archive)).Select(e => (e.Entry.Name, e.Entry.EntryType, e.Data, (string?)null)).ToList();

    private string Rewrite(IEnumerable<(string Name, TarEntryType Type, byte[] Data, string? Link)> entries, string file)
    {
        var path = _dir.Combine(file);
        using var stream = File.Create(path);
        using var writer = new TarWriter(stream, TarEntryFormat.Pax);
        foreach (var (name, type, data, link) in entries)
        {
            var entry = new PaxTarEntry(type, name);
            if (link is not null)
            {
                entry.LinkName = link;
            }
            else if (type is TarEntryType.RegularFile)
            {
                entry.DataStream = new MemoryStream(data);
            }

            writer.WriteEntry(entry);
        }

        return path;
    }

    [Fact]
    public async Task A_layout_an_oci_archive_and_a_docker_archive_written_here_read_back_with_their_digests()
    {
        var index = await IndexAsync();
        var layout = _dir.Combine("layout");
        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(new NamedArtifact("example.com/app", Name, index), ["latest", "v1"])], CancellationToken.None);
        var archive = await OciArchiveAsync(index);
        var docker = _dir.Combine("d.tar");
        await DockerArchiveWriter.WriteAsync(docker, [(index.Children[1], [$"{Name}:latest"])], CancellationToken.None);

        foreach (var spec in new[] { "oci:layout", $"oci:layout:{Name}:v1", "oci-archive:o.tar", $"oci-archive:{archive}:{Name}:latest" })
        {
            var read = await ReadAsync(spec, _dir.Path);
            Assert.Equal(index.Digest, read.Digest);
            Assert.Equal(index.IndexBytes.ToArray(), read.RootBytes.ToArray());
            Assert.Equal(index.Children.Select(c => c.Digest), read.Images.Select(c => c.Digest));
            Assert.Equal(index.Children.Select(c => c.Layers[0].DiffId), read.Images.Select(c => c.Layers[0].DiffId));
        }

        var image = Assert.IsAssignableFrom<IImage>(await ReadAsync("docker-archive:d.tar", _dir.Path));
        Assert.Equal(index.Children[1].Digest, image.Digest);
        Assert.Equal(new Platform("linux", "arm64"), image.Platform);
        Assert.Equal(image.Digest, (await ReadAsync($"docker-archive:d.tar:{Name}:latest", _dir.Path)).Digest);
    }

    [Fact]
    public async Task A_docker_archive_without_oci_parts_is_rebuilt_as_a_docker_schema2_image()
    {
        var image = (await IndexAsync()).Children[0];
        byte[] gz;
        await using (var s = await image.Layers[0].OpenCompressedAsync(CancellationToken.None))
        {
            using var ms = new MemoryStream();
            await s.CopyToAsync(ms);
            gz = ms.ToArray();
        }

        var manifest = $"[{{\"Config\":\"{image.Manifest.Config.Digest.Hex}.json\",\"RepoTags\":[\"{Name}:v1\"],\"Layers\":[\"./{image.Layers[0].Descriptor.Digest.Hex}/layer.tar\"]}}]";
        Rewrite(
            [
                ("manifest.json", TarEntryType.RegularFile, Encoding.UTF8.GetBytes(manifest), null),
                (image.Manifest.Config.Digest.Hex + ".json", TarEntryType.RegularFile, image.ConfigBytes.ToArray(), null),
                (image.Layers[0].Descriptor.Digest.Hex + "/", TarEntryType.Directory, [], null),
                (image.Layers[0].Descriptor.Digest.Hex + "/layer.tar", TarEntryType.RegularFile, gz, null),
            ],
            "old.tar");

        var read = Assert.IsAssignableFrom<IImage>(await ReadAsync("docker-archive:old.tar", _dir.Path));

        Assert.Equal(MediaTypes.DockerManifest, read.MediaType);
        Assert.Equal(Digest.Sha256(read.ManifestBytes.Span), read.Digest);
        Assert.Equal(image.ConfigBytes.ToArray(), read.ConfigBytes.ToArray());
        Assert.Equal(MediaTypes.DockerLayerGzip, read.Layers[0].Descriptor.MediaType);
        Assert.Equal(image.Layers[0].Descriptor.Digest, read.Layers[0].Descriptor.Digest);
        Assert.Equal(MediaTypes.DockerConfig, read.Manifest.Config.MediaType);
    }

    [Fact]
    public async Task An_uncompressed_layer_of_an_old_docker_archive_must_hash_to_its_diff_id()
    {
        var tar = "not really a tar, but uncompressed bytes"u8.ToArray();
        var config = Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{Digest.Sha256(tar)}\"]}}}}");
        (string, TarEntryType, byte[], string?)[] entries =
        [
            ("manifest.json", TarEntryType.RegularFile, "[{\"Config\":\"c.json\",\"RepoTags\":null,\"Layers\":[\"l.tar\"]}]"u8.ToArray(), null),
            ("c.json", TarEntryType.RegularFile, config, null),
            ("l.tar", TarEntryType.RegularFile, tar, null),
        ];
        Rewrite(entries, "good.tar");
        var read = Assert.IsAssignableFrom<IImage>(await ReadAsync("docker-archive:good.tar", _dir.Path));
        Assert.Equal(DockerArchiveSource.DockerLayer, read.Layers[0].Descriptor.MediaType);
        Assert.Equal(Digest.Sha256(tar), read.Layers[0].Descriptor.Digest);

        entries[2].Item3 = "other bytes"u8.ToArray();
        Rewrite(entries, "bad.tar");
        var ex = await FailsAsync("docker-archive:bad.tar", KoErrorCodes.SourceCorrupt);
        Assert.Contains("diff_id", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scratch_reads_as_an_index_of_every_offered_platform_with_no_layers()
    {
        var read = await ReadAsync("scratch", _dir.Path);
        Assert.Equal(MediaTypes.OciIndex, read.MediaType);
        Assert.Equal(SyntheticBase.Offered, read.Images.Select(i => i.Platform));
        Assert.All(read.Images, i => Assert.Empty(i.Layers));
        Assert.Equal(read.Digest, (await ReadAsync("scratch", _dir.Path)).Digest);
    }

    [Theory]
    [InlineData("oci:")]
    [InlineData("oci::v1")]
    [InlineData("oci:layout:")]
    [InlineData("oci-archive:")]
    [InlineData("docker-archive::x")]
    [InlineData("dir:/tmp/x")]
    [InlineData("containers-storage:x")]
    [InlineData("embedded:dynamic")]
    [InlineData("Upper/Case:v1")]
    [InlineData("docker://")]
    [InlineData("embedded:static")]
    public async Task A_malformed_spec_is_KO3014_showing_the_forms_accepted(string spec)
    {
        var ex = await Assert.ThrowsAsync<KoException>(() => ImageSources.OpenAsync(spec, _dir.Path, () => new RegistryOptions(), null, null, CancellationToken.None));
        Assert.Equal(KoErrorCodes.InvalidSource, ex.Code);
    }

    [Theory]
    [InlineData("oci:missing")]
    [InlineData("oci-archive:missing.tar")]
    [InlineData("docker-archive:missing.tar")]
    [InlineData("oci-archive:.")]
    public async Task A_missing_layout_or_archive_is_KO3015_naming_it(string spec)
    {
        var ex = await Assert.ThrowsAsync<KoException>(() => ImageSources.OpenAsync(spec, _dir.Path, () => new RegistryOptions(), null, null, CancellationToken.None));
        Assert.Equal(KoErrorCodes.SourceNotFound, ex.Code);
        Assert.Contains(_dir.Path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_layout_of_two_images_needs_a_name_and_an_unknown_name_lists_the_names()
    {
        var index = await IndexAsync();
        var layout = _dir.Combine("layout");
        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(new NamedArtifact("a", Name, index.Children[0]), ["a"]), new TaggedImage(new NamedArtifact("b", Name, index.Children[1]), ["b"])], CancellationToken.None);

        var ex = await FailsAsync("oci:layout", KoErrorCodes.SourceNotFound);
        Assert.Contains("holds 2 images", ex.Message, StringComparison.Ordinal);
        ex = await FailsAsync("oci:layout:nope", KoErrorCodes.SourceNotFound);
        Assert.Contains($"{Name}:a, {Name}:b", ex.Message, StringComparison.Ordinal);
        Assert.Equal(index.Children[1].Digest, (await ReadAsync($"oci:layout:{Name}:b", _dir.Path)).Digest);
    }

    [Fact]
    public async Task A_truncated_archive_is_KO3016_saying_so()
    {
        var archive = await OciArchiveAsync(await IndexAsync());
        var bytes = File.ReadAllBytes(archive);
        File.WriteAllBytes(_dir.Combine("cut.tar"), bytes[..(bytes.Length / 2)]);

        var ex = await FailsAsync("oci-archive:cut.tar", KoErrorCodes.SourceCorrupt);
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entry_claiming_more_bytes_than_the_file_has_is_KO3016_without_reading_them()
    {
        // A ustar header for index.json whose base-256 size is 2^62 bytes: the archive ends right after it.
        var header = new byte[512];
        Encoding.ASCII.GetBytes("index.json").CopyTo(header, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(header, 100);
        header[124] = 0x80;
        header[128] = 0x40;
        header[156] = (byte)'0';
        Encoding.ASCII.GetBytes("ustar\u000000").CopyTo(header, 257);
        "        "u8.CopyTo(header.AsSpan(148));
        var sum = header.Sum(b => (long)b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        File.WriteAllBytes(_dir.Combine("huge.tar"), [.. header, .. new byte[1024]]);

        var ex = await FailsAsync("oci-archive:huge.tar", KoErrorCodes.SourceCorrupt);
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_that_is_not_a_tar_is_KO3016()
    {
        File.WriteAllBytes(_dir.Combine("random.tar"), Enumerable.Range(0, 4096).Select(i => (byte)(i * 7 + 1)).ToArray());
        var ex = await FailsAsync("oci-archive:random.tar", KoErrorCodes.SourceCorrupt);
        Assert.Contains("checksum", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_archive_that_is_a_FIFO_is_KO3016_not_a_hang()
    {
        var fifo = _dir.Combine("fifo.tar");
        TestUtil.Run("mkfifo", fifo);
        try
        {
            var ex = await FailsAsync("oci-archive:fifo.tar", KoErrorCodes.SourceCorrupt);
            Assert.Contains("FIFO", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            TestUtil.ReleaseFifoReaders(fifo);
        }
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("blobs/../../escape")]
    [InlineData("/etc/passwd")]
    public async Task An_entry_name_leaving_the_archive_is_KO3016(string name)
    {
        var entries = Entries(await OciArchiveAsync(await IndexAsync()));
        entries.Add((name, TarEntryType.RegularFile, "x"u8.ToArray(), null));
        Rewrite(entries, "escape.tar");

        var ex = await FailsAsync("oci-archive:escape.tar", KoErrorCodes.SourceCorrupt);
        Assert.Contains("leaves the archive", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TarEntryType.SymbolicLink)]
    [InlineData(TarEntryType.HardLink)]
    public async Task A_needed_file_that_is_a_link_is_KO3016_and_never_followed(TarEntryType type)
    {
        var index = await IndexAsync();
        var entries = Entries(await OciArchiveAsync(index));
        var layer = $"blobs/sha256/{index.Children[0].Layers[0].Descriptor.Digest.Hex}";
        entries = entries.Select(e => e.Name == layer ? (e.Name, type, Array.Empty<byte>(), "/dev/zero") : e).ToList();
        Rewrite(entries, "link.tar");

        var ex = await FailsAsync("oci-archive:link.tar", KoErrorCodes.SourceCorrupt);
        Assert.Contains("is a link", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_blob_is_KO3016_naming_it()
    {
        var index = await IndexAsync();
        var layer = $"blobs/sha256/{index.Children[0].Layers[0].Descriptor.Digest.Hex}";
        Rewrite(Entries(await OciArchiveAsync(index)).Where(e => e.Name != layer), "missing.tar");

        var ex = await FailsAsync("oci-archive:missing.tar", KoErrorCodes.SourceCorrupt);
        Assert.Contains(layer, ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_duplicate_entry_is_KO3016()
    {
        var entries = Entries(await OciArchiveAsync(await IndexAsync()));
        entries.Add(entries.First(e => e.Name == "index.json"));
        Rewrite(entries, "dup.tar");

        var ex = await FailsAsync("oci-archive:dup.tar", KoErrorCodes.SourceCorrupt);
        Assert.Contains("'index.json' appears twice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_layer_with_the_right_size_and_wrong_bytes_reads_but_fails_KO3016_while_it_streams()
    {
        var index = await IndexAsync();
        var layer = $"blobs/sha256/{index.Children[0].Layers[0].Descriptor.Digest.Hex}";
        var entries = Entries(await OciArchiveAsync(index)).Select(e =>
        {
            if (e.Name != layer)
            {
                return e;
            }

            var data = e.Data.ToArray();
            data[data.Length / 2] ^= 0xff;
            return (e.Name, e.Type, data, e.Link);
        });
        Rewrite(entries, "flipped.tar");

        var artifact = await ReadAsync("oci-archive:flipped.tar", _dir.Path, stream: false);
        Assert.Equal(index.Digest, artifact.Digest);
        var ex = await FailsAsync("oci-archive:flipped.tar", KoErrorCodes.SourceCorrupt);
        Assert.Contains("hash to", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_layout_layer_with_wrong_bytes_fails_KO3016_while_it_streams()
    {
        var index = await IndexAsync();
        var layout = _dir.Combine("layout");
        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(new NamedArtifact("a", Name, index), ["a"])], CancellationToken.None);
        var blob = Path.Combine(layout, "blobs", "sha256", index.Children[0].Layers[0].Descriptor.Digest.Hex);
        var bytes = File.ReadAllBytes(blob);
        bytes[10] ^= 0xff;
        File.WriteAllBytes(blob, bytes);

        var ex = await FailsAsync("oci:layout", KoErrorCodes.SourceCorrupt);
        Assert.Contains(index.Children[0].Layers[0].Descriptor.Digest.ToString(), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_index_json_larger_than_64_MiB_is_KO3016_without_being_read()
    {
        var layout = _dir.Combine("layout");
        Directory.CreateDirectory(layout);
        File.WriteAllText(Path.Combine(layout, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        using (var f = File.Create(Path.Combine(layout, "index.json")))
        {
            f.SetLength((64L << 20) + 1); // sparse: nothing is written, and a reader that reads it all is too slow to pass
        }

        var ex = await FailsAsync("oci:layout", KoErrorCodes.SourceCorrupt);
        Assert.Contains("more than", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_pax_header_is_KO3016()
    {
        var archive = await OciArchiveAsync(await IndexAsync());
        Rewrite([("index.json", TarEntryType.RegularFile, "{}"u8.ToArray(), null)], "pax.tar");
        var bytes = File.ReadAllBytes(_dir.Combine("pax.tar"));
        // The first header is the PAX extended header the BCL writes; spoil its first record's length.
        Assert.Equal((byte)'x', bytes[156]);
        var record = bytes.AsSpan(512, 512);
        record[0] = (byte)'9';
        record[1] = (byte)'9';
        File.WriteAllBytes(_dir.Combine("pax.tar"), bytes);
        Assert.True(File.Exists(archive));

        var ex = await FailsAsync("oci-archive:pax.tar", KoErrorCodes.SourceCorrupt);
        Assert.Contains("PAX", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"Config\":\"c.json\"}", "'manifest.json' must be a list")]
    [InlineData("[{\"RepoTags\":[]}]", "has no 'Config'")]
    [InlineData("[{\"Config\":\"c.json\",\"Layers\":\"l.tar\"}]", "Layers' must be a list")]
    [InlineData("[{\"Config\":\"../c.json\",\"Layers\":[]}]", "leaves the archive")]
    [InlineData("[]", "lists no image")]
    [InlineData("[1", "not valid JSON")]
    public async Task A_malformed_manifest_json_is_a_KO_error_naming_the_problem(string manifest, string expected)
    {
        Rewrite([("manifest.json", TarEntryType.RegularFile, Encoding.UTF8.GetBytes(manifest), null), ("c.json", TarEntryType.RegularFile, "{}"u8.ToArray(), null)], "bad.tar");

        var ex = await FailsAsync("docker-archive:bad.tar", manifest == "[]" ? KoErrorCodes.SourceNotFound : KoErrorCodes.SourceCorrupt);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_docker_archive_of_two_images_needs_a_name()
    {
        var index = await IndexAsync();
        await DockerArchiveWriter.WriteAsync(_dir.Combine("two.tar"), [(index.Children[0], ["a/x:1"]), (index.Children[1], ["a/y:1"])], CancellationToken.None);

        var ex = await FailsAsync("docker-archive:two.tar", KoErrorCodes.SourceNotFound);
        Assert.Contains("a/x:1, a/y:1", ex.Message, StringComparison.Ordinal);
        Assert.Equal(index.Children[1].Digest, (await ReadAsync("docker-archive:two.tar:a/y:1", _dir.Path)).Digest);
    }

    [Fact]
    public async Task An_index_whose_child_is_an_index_is_KO3016()
    {
        var index = await IndexAsync();
        var nested = new Oci.Index(MediaTypes.OciIndex, [new Descriptor(MediaTypes.OciIndex, index.Digest, index.IndexBytes.Length)]);
        var entries = Entries(await OciArchiveAsync(index));
        var nestedBytes = nested.ToBytes();
        var top = new Oci.Index(MediaTypes.OciIndex, [new Descriptor(MediaTypes.OciIndex, Digest.Sha256(nestedBytes), nestedBytes.Length)]);
        entries = entries.Where(e => e.Name != "index.json").ToList();
        entries.Add(($"blobs/sha256/{Digest.Sha256(nestedBytes).Hex}", TarEntryType.RegularFile, nestedBytes, null));
        entries.Add(("index.json", TarEntryType.RegularFile, top.ToBytes(), null));
        Rewrite(entries, "nested.tar");

        var ex = await FailsAsync("oci-archive:nested.tar", KoErrorCodes.SourceCorrupt);
        Assert.Contains("only image manifests", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bare_name_of_a_local_directory_or_file_is_KO3014_naming_the_transport_meant()
    {
        Directory.CreateDirectory(_dir.Combine("out"));
        File.WriteAllText(_dir.Combine("image.tar"), "x");

        var ex = await Assert.ThrowsAsync<KoException>(() => ImageSources.OpenAsync("out", _dir.Path, () => new RegistryOptions(), null, null, CancellationToken.None));
        Assert.Equal(KoErrorCodes.InvalidSource, ex.Code);
        Assert.Contains("write oci:out", ex.Message, StringComparison.Ordinal);
        ex = await Assert.ThrowsAsync<KoException>(() => ImageSources.OpenAsync("image.tar", _dir.Path, () => new RegistryOptions(), null, null, CancellationToken.None));
        Assert.Contains("oci-archive:image.tar or docker-archive:image.tar", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_docker_archive_whose_index_json_names_an_index_gives_the_stored_child_manifest()
    {
        // As docker save with the containerd image store writes it: index.json names the image's index, and
        // manifest.json the platform image that was saved.
        var index = await IndexAsync();
        var entries = Entries(await OciArchiveAsync(index));
        var child = index.Children[1];
        var manifest = $"[{{\"Config\":\"blobs/sha256/{child.Manifest.Config.Digest.Hex}\",\"RepoTags\":[\"{Name}:latest\"],\"Layers\":[\"blobs/sha256/{child.Layers[0].Descriptor.Digest.Hex}\"]}}]";
        entries.Add(("manifest.json", TarEntryType.RegularFile, Encoding.UTF8.GetBytes(manifest), null));
        Rewrite(entries, "containerd.tar");

        var read = Assert.IsAssignableFrom<IImage>(await ReadAsync("docker-archive:containerd.tar", _dir.Path));
        Assert.Equal(child.Digest, read.Digest);
        Assert.Equal(MediaTypes.OciManifest, read.MediaType);
    }

    [Fact]
    public async Task An_index_json_entry_larger_than_64_MiB_in_an_archive_is_KO3016_without_being_read()
    {
        var path = _dir.Combine("bigindex.tar");
        using (var stream = File.Create(path))
        {
            var layout = "{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray();
            stream.Write(Header("oci-layout", layout.Length));
            stream.Write(layout);
            stream.Write(new byte[512 - layout.Length]);
            stream.Write(Header("index.json", (64L << 20) + 1));
            stream.SetLength(stream.Length + (64L << 20) + 512 + 1024); // sparse: the claimed bytes exist, as zeros
        }

        var ex = await FailsAsync("oci-archive:bigindex.tar", KoErrorCodes.SourceCorrupt);
        Assert.Contains("index.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains("more than", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A ustar header for a regular file with an octal size, checksum filled in.</summary>
    private static byte[] Header(string name, long size)
    {
        var header = new byte[512];
        Encoding.ASCII.GetBytes(name).CopyTo(header, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(header, 100);
        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0') + "\0").CopyTo(header, 124);
        header[156] = (byte)'0';
        Encoding.ASCII.GetBytes("ustar\u000000").CopyTo(header, 257);
        "        "u8.CopyTo(header.AsSpan(148));
        Encoding.ASCII.GetBytes(Convert.ToString(header.Sum(b => (long)b), 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        return header;
    }

    [Fact]
    public async Task An_index_json_that_is_not_UTF8_is_KO3016_for_a_source_and_KO1002_for_a_base()
    {
        var index = await IndexAsync();
        var layout = _dir.Combine("layout");
        await OciLayoutWriter.WriteAsync(layout, [new TaggedImage(new NamedArtifact("a", Name, index), ["a"])], CancellationToken.None);
        var path = Path.Combine(layout, "index.json");
        var bytes = File.ReadAllBytes(path);
        var at = Encoding.UTF8.GetString(bytes).IndexOf(Name, StringComparison.Ordinal);
        bytes[at] = 0xec; // inside a JSON string: JsonDocument accepts it and only GetString would throw
        File.WriteAllBytes(path, bytes);

        var ex = await FailsAsync("oci:layout", KoErrorCodes.SourceCorrupt);
        Assert.Contains("UTF-8", ex.Message, StringComparison.Ordinal);
        var asBase = await Assert.ThrowsAsync<KoException>(() => OciLayoutBase.OpenAsync("oci:layout", _dir.Path, CancellationToken.None));
        Assert.Equal(KoErrorCodes.InvalidBaseImage, asBase.Code);
    }

    [Fact]
    public async Task A_cancelled_read_stops_with_OperationCanceledException()
    {
        await OciArchiveAsync(await IndexAsync());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await using var source = await ImageSources.OpenAsync("oci-archive:o.tar", _dir.Path, () => new RegistryOptions(), null, null, CancellationToken.None);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => source.ReadAsync(cancelled.Token));
    }
}
