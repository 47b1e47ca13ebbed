using System.Text;
using System.Text.Json;
using Ko.Engine.Images;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using KoTarEntry = Ko.Engine.Layers.TarEntry;
using TarEntryType = Ko.Engine.Layers.TarEntryType;

namespace Ko.Engine.Tests;

public sealed class AssemblerTests : IDisposable
{
    private static readonly DateTimeOffset Created = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    private static readonly DateTimeOffset KodataCreated = DateTimeOffset.FromUnixTimeSeconds(86_400);

    private readonly TempDir _dir = new();
    private readonly ContentStore _store;
    private readonly LayerCache _cache;

    public AssemblerTests()
    {
        _store = new ContentStore(_dir.Combine("cache"));
        _cache = new LayerCache(_store);
    }

    public void Dispose() => _dir.Dispose();

    private async Task<(FileLayer Kodata, FileLayer Binary)> AppLayersAsync(string binaryContent = "binary")
    {
        var pkg = _dir.Combine("pkg");
        _dir.WriteFile("pkg/kodata/index.html", "<h1>hi</h1>");
        var bin = _dir.WriteFile("bin/hello-" + binaryContent, binaryContent);
        var kodata = await AppLayers.KodataLayerAsync(_store, _cache, pkg, 0, CancellationToken.None);
        var binary = await AppLayers.BinaryLayerAsync(_store, _cache, bin, "hello", 0, CancellationToken.None);
        return (kodata.Layer, binary.Layer);
    }

    private static AppImageSpec Spec(DateTimeOffset? created = null) => new()
    {
        ImportPath = "example.com/hello",
        AppPath = "/ko-app/hello",
        Created = created ?? Created,
        KodataCreated = KodataCreated,
        Labels = new Dictionary<string, string> { ["org.example.team"] = "platform", ["a.label"] = "1" },
        Annotations = new Dictionary<string, string> { ["com.example.note"] = "hello" },
        User = "1000:1000",
    };

    private static JsonElement Json(ReadOnlyMemory<byte> bytes) => JsonDocument.Parse(bytes).RootElement.Clone();

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    [Fact]
    public async Task Embedded_static_base_gets_entrypoint_env_labels_user_created_and_layers()
    {
        var baseSource = await SyntheticBase.EmbeddedStaticAsync(_store, _cache, CancellationToken.None);
        var baseImage = await baseSource.GetImageAsync(new Platform("linux", "amd64"), CancellationToken.None);
        var (kodata, binary) = await AppLayersAsync();

        var image = ImageAssembler.Assemble(baseImage, baseSource.Name, kodata, binary, Spec());

        var baseConfig = Json(baseImage.ConfigBytes);
        var config = Json(image.ConfigBytes);
        var inner = config.GetProperty("config");
        Assert.Equal(["/ko-app/hello"], Strings(inner.GetProperty("Entrypoint")));
        Assert.False(inner.TryGetProperty("Cmd", out _));

        var basePath = Strings(baseConfig.GetProperty("config").GetProperty("Env")).Single(e => e.StartsWith("PATH=", StringComparison.Ordinal));
        var env = Strings(inner.GetProperty("Env"));
        var path = Assert.Single(env, e => e.StartsWith("PATH=", StringComparison.Ordinal));
        Assert.Equal(basePath + ":/ko-app", path);
        Assert.EndsWith(":/ko-app", path);
        Assert.Contains("KO_DATA_PATH=/var/run/ko", env);
        Assert.Contains("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", env); // base env kept

        Assert.Equal("platform", inner.GetProperty("Labels").GetProperty("org.example.team").GetString());
        Assert.Equal("1", inner.GetProperty("Labels").GetProperty("a.label").GetString());
        Assert.Equal("1000:1000", inner.GetProperty("User").GetString());
        Assert.Equal("/home/nonroot", inner.GetProperty("WorkingDir").GetString());
        Assert.Equal("2023-11-14T22:13:20Z", config.GetProperty("created").GetString());
        Assert.Equal("amd64", config.GetProperty("architecture").GetString());
        Assert.Equal("linux", config.GetProperty("os").GetString());

        var baseDiffIds = Strings(baseConfig.GetProperty("rootfs").GetProperty("diff_ids"));
        Assert.Single(baseDiffIds);
        Assert.Equal(baseDiffIds.Concat([kodata.DiffId.ToString(), binary.DiffId.ToString()]), Strings(config.GetProperty("rootfs").GetProperty("diff_ids")));
        Assert.Equal("layers", config.GetProperty("rootfs").GetProperty("type").GetString());

        var baseHistory = baseConfig.GetProperty("history").GetArrayLength();
        var history = config.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(baseHistory + 2, history.Count);
        Assert.Equal("1970-01-02T00:00:00Z", history[^2].GetProperty("created").GetString()); // kodata: KodataCreated
        Assert.Equal("2023-11-14T22:13:20Z", history[^1].GetProperty("created").GetString()); // binary: Created
        Assert.Contains("example.com/hello", history[^1].GetProperty("created_by").GetString());

        AssertManifestConsistent(image, baseImage, kodata, binary, docker: false);
        var manifest = Json(image.ManifestBytes);
        var annotations = manifest.GetProperty("annotations");
        Assert.Equal("embedded:static", annotations.GetProperty(AnnotationKeys.BaseName).GetString());
        Assert.Equal(TestUtil.Sha256Ref(baseImage.ManifestBytes.ToArray()), annotations.GetProperty(AnnotationKeys.BaseDigest).GetString());
        Assert.Equal("hello", annotations.GetProperty("com.example.note").GetString());
        Assert.Equal(new Platform("linux", "amd64"), image.Platform);
    }

    [Fact]
    public async Task Scratch_base_gets_path_of_ko_app_only()
    {
        var baseSource = SyntheticBase.Scratch();
        var baseImage = await baseSource.GetImageAsync(new Platform("linux", "arm", "v7"), CancellationToken.None);
        Assert.Empty(baseImage.Layers);
        var (kodata, binary) = await AppLayersAsync();

        var image = ImageAssembler.Assemble(baseImage, baseSource.Name, kodata, binary, Spec() with { User = null, Labels = new Dictionary<string, string>() });

        var config = Json(image.ConfigBytes);
        var inner = config.GetProperty("config");
        Assert.Equal(["/ko-app/hello"], Strings(inner.GetProperty("Entrypoint")));
        Assert.False(inner.TryGetProperty("Cmd", out _));
        Assert.False(inner.TryGetProperty("User", out _));
        Assert.False(inner.TryGetProperty("Labels", out _));
        var env = Strings(inner.GetProperty("Env"));
        Assert.Contains("PATH=/ko-app", env);
        Assert.Contains("KO_DATA_PATH=/var/run/ko", env);
        Assert.Equal(2, env.Length);

        Assert.Equal([kodata.DiffId.ToString(), binary.DiffId.ToString()], Strings(config.GetProperty("rootfs").GetProperty("diff_ids")));
        Assert.Equal(2, config.GetProperty("history").GetArrayLength());
        Assert.Equal("v7", config.GetProperty("variant").GetString());
        Assert.Equal(new Platform("linux", "arm", "v7"), image.Platform);

        AssertManifestConsistent(image, baseImage, kodata, binary, docker: false);
        Assert.Equal("scratch", Json(image.ManifestBytes).GetProperty("annotations").GetProperty(AnnotationKeys.BaseName).GetString());
    }

    [Fact]
    public async Task Without_created_the_bases_created_is_kept()
    {
        var baseImage = await SyntheticBase.Scratch().GetImageAsync(new Platform("linux", "amd64"), CancellationToken.None);
        var (kodata, binary) = await AppLayersAsync();
        var image = ImageAssembler.Assemble(baseImage, "scratch", kodata, binary, Spec() with { Created = null, KodataCreated = null });

        Assert.Equal(Json(baseImage.ConfigBytes).GetProperty("created").GetString(), Json(image.ConfigBytes).GetProperty("created").GetString());
    }

    [Fact]
    public async Task Same_inputs_assemble_to_the_same_digest()
    {
        var baseImage = await SyntheticBase.Scratch().GetImageAsync(new Platform("linux", "amd64"), CancellationToken.None);
        var (kodata, binary) = await AppLayersAsync();
        var a = ImageAssembler.Assemble(baseImage, "scratch", kodata, binary, Spec());
        var b = ImageAssembler.Assemble(baseImage, "scratch", kodata, binary, Spec());
        var c = ImageAssembler.Assemble(baseImage, "scratch", kodata, binary, Spec(DateTimeOffset.FromUnixTimeSeconds(1)));

        Assert.Equal(a.Digest, b.Digest);
        Assert.Equal(a.ManifestBytes.ToArray(), b.ManifestBytes.ToArray());
        Assert.NotEqual(a.Digest, c.Digest);
    }

    [Fact]
    public async Task Docker_base_keeps_docker_media_types_and_has_no_annotations()
    {
        var (baseImage, baseLayer) = await DockerBaseAsync(withHistory: true);
        var (kodata, binary) = await AppLayersAsync();

        var image = ImageAssembler.Assemble(baseImage, "docker-base", kodata, binary, Spec());

        var manifest = Json(image.ManifestBytes);
        Assert.Equal(MediaTypes.DockerManifest, manifest.GetProperty("mediaType").GetString());
        Assert.Equal(MediaTypes.DockerConfig, manifest.GetProperty("config").GetProperty("mediaType").GetString());
        var layers = manifest.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(3, layers.Count);
        Assert.All(layers, l => Assert.Equal(MediaTypes.DockerLayerGzip, l.GetProperty("mediaType").GetString()));
        Assert.Equal(baseLayer.Descriptor.Digest.ToString(), layers[0].GetProperty("digest").GetString());
        Assert.False(manifest.TryGetProperty("annotations", out _));
        AssertManifestConsistent(image, baseImage, kodata, binary, docker: true);

        var config = Json(image.ConfigBytes);
        var inner = config.GetProperty("config");
        Assert.Equal(["/ko-app/hello"], Strings(inner.GetProperty("Entrypoint")));
        Assert.False(inner.TryGetProperty("Cmd", out _)); // the base's Cmd is dropped
        Assert.Equal("PATH=/bin:/ko-app", Strings(inner.GetProperty("Env"))[0]);
        // ko round-trips the config through go-containerregistry's v1.ConfigFile: fields it lacks are dropped.
        Assert.False(config.TryGetProperty("custom_field", out _));
        Assert.Equal(4, config.GetProperty("history").GetArrayLength()); // one layer entry + one empty_layer entry + 2
    }

    [Fact]
    public async Task History_entries_by_ko_are_appended_even_when_the_base_has_none_and_dated_as_ko()
    {
        // ko pkg/build/gobuild.go (mutate.Append with a v1.History per layer, Author "ko"; cfg.Author =
        // "github.com/ko-build/ko"); with no epoch set, Go's zero time is what ko's history says.
        var (baseImage, _) = await DockerBaseAsync(withHistory: false);
        var (kodata, binary) = await AppLayersAsync();

        var image = ImageAssembler.Assemble(baseImage, "docker-base", kodata, binary, Spec() with { Created = null, KodataCreated = null });

        var config = Json(image.ConfigBytes);
        Assert.Equal("github.com/ko-build/ko", config.GetProperty("author").GetString());
        var history = config.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(2, history.Count);
        Assert.All(history, h => Assert.Equal("ko", h.GetProperty("author").GetString()));
        Assert.All(history, h => Assert.Equal("0001-01-01T00:00:00Z", h.GetProperty("created").GetString()));
        Assert.Equal(["author", "created", "created_by", "comment"], history[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal("ko build ko://example.com/hello", history[1].GetProperty("created_by").GetString());
        Assert.Equal(3, config.GetProperty("rootfs").GetProperty("diff_ids").GetArrayLength());
    }

    [Fact]
    public async Task Index_lists_platform_images_in_order_with_their_digests_and_sizes()
    {
        var baseSource = await SyntheticBase.EmbeddedStaticAsync(_store, _cache, CancellationToken.None);
        var (kodata, amd64Binary) = await AppLayersAsync("amd64");
        var (_, armBinary) = await AppLayersAsync("arm");
        var amd64 = ImageAssembler.Assemble(await baseSource.GetImageAsync(new Platform("linux", "amd64"), default), baseSource.Name, kodata, amd64Binary, Spec());
        var arm = ImageAssembler.Assemble(await baseSource.GetImageAsync(new Platform("linux", "arm", "v7"), default), baseSource.Name, kodata, armBinary, Spec());

        var index = ImageAssembler.AssembleIndex([arm, amd64], baseSource, new Dictionary<string, string> { ["com.example.note"] = "idx" });

        Assert.Equal(TestUtil.Sha256Ref(index.IndexBytes.ToArray()), index.Digest.ToString());
        Assert.Equal([arm, amd64], index.Children);
        var json = Json(index.IndexBytes);
        Assert.Equal(2, json.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(MediaTypes.OciIndex, json.GetProperty("mediaType").GetString());
        var manifests = json.GetProperty("manifests").EnumerateArray().ToList();
        Assert.Equal(2, manifests.Count);
        foreach (var (entry, child) in manifests.Zip([arm, amd64]))
        {
            Assert.Equal(MediaTypes.OciManifest, entry.GetProperty("mediaType").GetString());
            Assert.Equal(TestUtil.Sha256Ref(child.ManifestBytes.ToArray()), entry.GetProperty("digest").GetString());
            Assert.Equal(child.ManifestBytes.Length, entry.GetProperty("size").GetInt64());
        }

        Assert.Equal("arm", manifests[0].GetProperty("platform").GetProperty("architecture").GetString());
        Assert.Equal("v7", manifests[0].GetProperty("platform").GetProperty("variant").GetString());
        Assert.Equal("linux", manifests[0].GetProperty("platform").GetProperty("os").GetString());
        Assert.Equal("amd64", manifests[1].GetProperty("platform").GetProperty("architecture").GetString());
        Assert.False(manifests[1].GetProperty("platform").TryGetProperty("variant", out _));
        Assert.Equal("embedded:static", json.GetProperty("annotations").GetProperty(AnnotationKeys.BaseName).GetString());
        Assert.Equal("idx", json.GetProperty("annotations").GetProperty("com.example.note").GetString());
        Assert.NotEqual(amd64.Digest, arm.Digest);
    }

    [Fact]
    public async Task Image_rejects_config_that_does_not_match_its_digest_or_missing_layers()
    {
        var config = "{\"os\":\"linux\",\"architecture\":\"amd64\"}"u8.ToArray();
        var wrong = new Manifest(MediaTypes.OciManifest, new Descriptor(MediaTypes.OciConfig, Digest.Sha256("other"u8), config.Length), []).ToBytes();
        Assert.Throws<FormatException>(() => new Image(wrong, config, [], "test"));

        var (kodata, _) = await AppLayersAsync();
        var right = new Manifest(MediaTypes.OciManifest, new Descriptor(MediaTypes.OciConfig, Digest.Sha256(config), config.Length), [kodata.Descriptor]).ToBytes();
        Assert.Throws<FormatException>(() => new Image(right, config, [], "test"));
        Assert.Equal(new Platform("linux", "amd64"), new Image(right, config, [kodata], "test").Platform);
    }

    private async Task<(Image Image, FileLayer Layer)> DockerBaseAsync(bool withHistory)
    {
        var layer = await LayerWriter.WriteAsync(
            _store,
            async (tar, ct) => await tar.WriteEntryAsync(new KoTarEntry("bin/sh", TarEntryType.File, 0x1ed, 0, 0), Encoding.UTF8.GetBytes("#!shell"), ct),
            CancellationToken.None);
        var history = withHistory
            ? ",\"history\":[{\"created\":\"2020-01-01T00:00:00Z\",\"created_by\":\"ADD rootfs\"},{\"created\":\"2020-01-01T00:00:00Z\",\"created_by\":\"CMD sh\",\"empty_layer\":true}]"
            : string.Empty;
        var config = Encoding.UTF8.GetBytes(
            "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2020-01-01T00:00:00Z\",\"custom_field\":\"kept\","
            + "\"config\":{\"Env\":[\"PATH=/bin\"],\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"sh\"]},"
            + $"\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{layer.DiffId}\"]}}{history}}}");
        var manifest = new Manifest(
            MediaTypes.DockerManifest,
            new Descriptor(MediaTypes.DockerConfig, Digest.Sha256(config), config.Length),
            [layer.Descriptor with { MediaType = MediaTypes.DockerLayerGzip }]);
        return (new Image(manifest.ToBytes(), config, [layer], "docker-base"), layer);
    }

    private static void AssertManifestConsistent(IImage image, IImage baseImage, ILayer kodata, ILayer binary, bool docker)
    {
        Assert.Equal(TestUtil.Sha256Ref(image.ManifestBytes.ToArray()), image.Digest.ToString());
        var manifest = Json(image.ManifestBytes);
        Assert.Equal(2, manifest.GetProperty("schemaVersion").GetInt32());
        var configDescriptor = manifest.GetProperty("config");
        Assert.Equal(TestUtil.Sha256Ref(image.ConfigBytes.ToArray()), configDescriptor.GetProperty("digest").GetString());
        Assert.Equal(image.ConfigBytes.Length, configDescriptor.GetProperty("size").GetInt64());
        Assert.Equal(docker ? MediaTypes.DockerConfig : MediaTypes.OciConfig, configDescriptor.GetProperty("mediaType").GetString());

        var layers = manifest.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(baseImage.Layers.Count + 2, layers.Count);
        var expected = baseImage.Layers.Select(l => l.Descriptor).Concat([kodata.Descriptor, binary.Descriptor]).ToList();
        foreach (var (json, d) in layers.Zip(expected))
        {
            Assert.Equal(d.Digest.ToString(), json.GetProperty("digest").GetString());
            Assert.Equal(d.Size, json.GetProperty("size").GetInt64());
            Assert.Equal(docker ? MediaTypes.DockerLayerGzip : MediaTypes.OciLayerGzip, json.GetProperty("mediaType").GetString());
        }

        Assert.Equal(expected.Select(d => d.Digest), image.Layers.Select(l => l.Descriptor.Digest));
        Assert.Same(kodata, image.Layers[^2]);
        Assert.Same(binary, image.Layers[^1]);
    }
}
