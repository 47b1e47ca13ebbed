using System.Text;
using CsCheck;
using Ko.Engine.Sources;
using Ko.Engine.Images;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using static Ko.Engine.Tests.Fuzz.FuzzSupport;

namespace Ko.Engine.Tests.Fuzz;

/// <summary>
/// Fuzz/property tests of the OCI JSON readers (manifest, index, image config) and of an <c>oci:</c> base end to
/// end: a document with the wrong JSON types or shapes is an error naming the document, never a crash.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class OciJsonFuzzTests : IDisposable
{
    private static readonly string LayerDigest = "sha256:" + new string('1', 64);
    private static readonly string DiffId = "sha256:" + new string('2', 64);

    internal static readonly string ConfigSeed = $$$"""
        {"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z",
         "config":{"Env":["PATH=/usr/bin"],"Entrypoint":["/x"],"Cmd":["y"],"Labels":{"a":"b"},"User":"0","WorkingDir":"/","ExposedPorts":{"80/tcp":{} } },
         "rootfs":{"type":"layers","diff_ids":["{{{DiffId}}}"]},
         "history":[{"created":"2024-01-01T00:00:00Z","created_by":"x"},{"created_by":"ENV","empty_layer":true}]}
        """;

    private static string ManifestSeed(string configDigest, int configSize, string mediaType = MediaTypes.OciManifest) => $$$"""
        {"schemaVersion":2,"mediaType":"{{{mediaType}}}",
         "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{{configDigest}}}","size":{{{configSize}}}},
         "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{{{LayerDigest}}}","size":5,"annotations":{"k":"v"}}],
         "annotations":{"org.opencontainers.image.base.name":"x"}}
        """;

    private static string IndexSeed(string digest, int size) => $$$"""
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
         "manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{digest}}}","size":{{{size}}},
                       "platform":{"architecture":"amd64","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"v1"}},
                      {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{LayerDigest}}}","size":5,
                       "platform":{"architecture":"arm","os":"linux","variant":"v7"}}]}
        """;

    private static readonly string ManifestText = ManifestSeed("sha256:" + new string('3', 64), 100);

    private static readonly string IndexText = IndexSeed("sha256:" + new string('4', 64), 300);

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void OnlyFormatException(Action parse)
    {
        try
        {
            parse();
        }
        catch (FormatException ex)
        {
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        }
    }

    // The readers' contract: a malformed document is a FormatException naming it (each caller turns that into a
    // KoException with its own code); a readable one survives the engine's own serialisation unchanged.
    [Fact]
    public Task Manifest_parse_only_throws_FormatException_and_round_trips() =>
        CheckAsync(HostileJson(ManifestText, ManifestSeed(DiffId, 7, MediaTypes.DockerManifest)), text => OnlyFormatException(() =>
        {
            var manifest = Manifest.Parse(Encoding.UTF8.GetBytes(text), "fuzz manifest");
            var bytes = manifest.ToBytes();
            Assert.Equal(bytes, Manifest.Parse(bytes, "again").ToBytes());
        }), 2000);

    [Fact]
    public Task Index_parse_only_throws_FormatException_and_round_trips() =>
        CheckAsync(HostileJson(IndexText), text => OnlyFormatException(() =>
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            Oci.Index.LooksLikeIndex(bytes);
            var index = Oci.Index.Parse(bytes, "fuzz index");
            var written = index.ToBytes();
            Assert.Equal(written, Oci.Index.Parse(written, "again").ToBytes());
        }), 2000);

    [Fact]
    public Task Image_config_readers_only_throw_FormatException() =>
        CheckAsync(HostileJson(ConfigSeed), text => OnlyFormatException(() =>
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            ImageConfig.ReadDiffIds(bytes, "fuzz config");
            ImageConfig.ReadPlatform(bytes);
        }), 2000);

    private enum Target
    {
        Config,
        Manifest,
        TopIndex,
    }

    // An oci: base layout whose config, manifest or index.json is mistyped: opening it, picking the image and
    // assembling an app image on it gives a KoException or an image, nothing else.
    [Fact]
    public Task Oci_layout_base_with_mistyped_documents_is_a_KoException() =>
        CheckEachAsync(
            Gen.Enum<Target>().SelectMany(t => HostileJson(t switch { Target.Config => ConfigSeed, Target.Manifest => ManifestText, _ => IndexText })
                .Select(doc => (Target: t, Config: doc, Manifest: doc, Index: doc))),
            async c =>
            {
                var dir = _dir.Combine("layout-" + Guid.NewGuid().ToString("N"));
                var config = c.Target == Target.Config ? c.Config : ConfigSeed;
                var configDigest = Put(dir, config);
                var manifest = c.Target == Target.Manifest
                    ? c.Manifest.Replace("sha256:" + new string('3', 64), configDigest, StringComparison.Ordinal)
                    : ManifestSeed(configDigest, Encoding.UTF8.GetByteCount(config));
                var manifestDigest = Put(dir, manifest);
                var top = c.Target == Target.TopIndex
                    ? c.Index.Replace("sha256:" + new string('4', 64), manifestDigest, StringComparison.Ordinal)
                    : IndexSeed(manifestDigest, Encoding.UTF8.GetByteCount(manifest));
                File.WriteAllBytes(Path.Combine(dir, "index.json"), Encoding.UTF8.GetBytes(top));
                File.WriteAllText(Path.Combine(dir, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
                File.WriteAllBytes(Path.Combine(dir, "blobs", "sha256", new string('1', 64)), Encoding.ASCII.GetBytes("layer"));
                try
                {
                    using var baseImage = await OciLayoutBase.OpenAsync("oci:" + dir + ":v1", "/", CancellationToken.None);
                    var platform = baseImage.IsMultiPlatform ? baseImage.Platforms.FirstOrDefault() ?? new Platform("linux", "amd64") : null;
                    var image = await baseImage.GetImageAsync(platform ?? new Platform("linux", "amd64"), CancellationToken.None);
                    var (kodata, binary) = AppLayers(dir);
                    ImageAssembler.Assemble(image, baseImage.Name, kodata, binary, new AppImageSpec { ImportPath = "example.com/app", AppPath = "/ko-app/app" });
                }
                catch (KoException ex)
                {
                    Assert.Matches(@"^KO\d{4}$", ex.Code);
                }
                finally
                {
                    Directory.Delete(dir, recursive: true);
                }
            },
            200,
            c => c.Target + ": " + Show(c.Target switch { Target.Config => c.Config, Target.Manifest => c.Manifest, _ => c.Index }));

    private static string Put(string dir, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var hex = TestUtil.Sha256Hex(bytes);
        Directory.CreateDirectory(Path.Combine(dir, "blobs", "sha256"));
        File.WriteAllBytes(Path.Combine(dir, "blobs", "sha256", hex), bytes);
        return "sha256:" + hex;
    }

    private static (ILayer Kodata, ILayer Binary) AppLayers(string dir)
    {
        var path = Path.Combine(dir, "blobs", "sha256", new string('1', 64));
        var descriptor = new Descriptor(MediaTypes.OciLayerGzip, Digest.Parse(LayerDigest), 5);
        return (new FileLayer(descriptor, Digest.Parse(DiffId), path), new FileLayer(descriptor, Digest.Parse(DiffId), path));
    }
}
