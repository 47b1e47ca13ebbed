using Ko.Engine.Sources;
using Ko.Engine.Images;
using Ko.Engine.Oci;
using Ko.Engine.Publishing;
using Ko.Engine.Sinks;

namespace Ko.Engine.Tests;

/// <summary>
/// OCI layouts are outside input (an <c>oci:</c> base, an existing output): their files are read only when they are
/// regular files of a sane size; a FIFO or device where index.json or a blob belongs is an error, never a hang.
/// </summary>
public sealed class OciLayoutFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string WriteBlob(string layout, byte[] bytes)
    {
        var digest = Digest.Sha256(bytes);
        var path = Path.Combine(layout, "blobs", "sha256", digest.Hex);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return digest.ToString();
    }

    /// <summary>A one-image layout; returns the manifest blob's path.</summary>
    private string MakeLayout(string layout)
    {
        Directory.CreateDirectory(layout);
        File.WriteAllText(Path.Combine(layout, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        var layer = "layer bytes"u8.ToArray();
        var layerDigest = WriteBlob(layout, layer);
        var config = System.Text.Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{Digest.Sha256("tar"u8)}\"]}}}}");
        var configDigest = WriteBlob(layout, config);
        var manifest = System.Text.Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},"
            + $"\"layers\":[{{\"mediaType\":\"{MediaTypes.OciLayerGzip}\",\"digest\":\"{layerDigest}\",\"size\":{layer.Length}}}]}}");
        var manifestDigest = WriteBlob(layout, manifest);
        File.WriteAllText(Path.Combine(layout, "index.json"), $"{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{manifestDigest}\",\"size\":{manifest.Length},\"annotations\":{{\"{AnnotationKeys.RefName}\":\"ko.local/x:latest\"}}}}]}}");
        return Path.Combine(layout, "blobs", "sha256", Digest.Parse(manifestDigest).Hex);
    }

    private static void ReplaceWithFifo(string path)
    {
        File.Delete(path);
        TestUtil.Run("mkfifo", path);
    }

    private static async Task<KoException> FailsWithinAsync(Func<Task> action, string fifo)
    {
        try
        {
            var work = Task.Run(action);
            var finished = await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(20)));
            Assert.True(finished == work, $"reading {fifo} hung");
            return await Assert.ThrowsAsync<KoException>(() => work);
        }
        finally
        {
            TestUtil.ReleaseFifoReaders(fifo);
        }
    }

    [Fact]
    public async Task Base_whose_index_json_is_a_fifo_is_an_error_not_a_hang()
    {
        var layout = _dir.Combine("base");
        MakeLayout(layout);
        var index = Path.Combine(layout, "index.json");
        ReplaceWithFifo(index);

        var ex = await FailsWithinAsync(() => OciLayoutBase.OpenAsync("oci:base", _dir.Path, CancellationToken.None), index);

        Assert.Equal(KoErrorCodes.InvalidBaseImage, ex.Code);
        Assert.Contains(index, ex.Message);
        Assert.Contains("FIFO", ex.Message);
    }

    [Fact]
    public async Task Base_whose_manifest_blob_is_a_fifo_is_an_error_not_a_hang()
    {
        var layout = _dir.Combine("base");
        var manifest = MakeLayout(layout);
        ReplaceWithFifo(manifest);

        var ex = await FailsWithinAsync(() => OciLayoutBase.OpenAsync("oci:base", _dir.Path, CancellationToken.None), manifest);

        Assert.Equal(KoErrorCodes.InvalidBaseImage, ex.Code);
        Assert.Contains(manifest, ex.Message);
    }

    [Fact]
    public async Task Base_manifest_blob_longer_than_its_descriptor_is_refused_without_reading_it()
    {
        var layout = _dir.Combine("base");
        var manifest = MakeLayout(layout);
        // /dev/zero has no end: a reader that trusts the file instead of the descriptor never finishes.
        File.Delete(manifest);
        File.CreateSymbolicLink(manifest, "/dev/zero");

        var ex = await FailsWithinAsync(() => OciLayoutBase.OpenAsync("oci:base", _dir.Path, CancellationToken.None), manifest);

        Assert.Equal(KoErrorCodes.InvalidBaseImage, ex.Code);
        Assert.Contains(manifest, ex.Message);
    }

    [Fact]
    public async Task Base_layer_that_is_a_fifo_is_refused_when_the_base_is_opened()
    {
        var layout = _dir.Combine("base");
        Directory.CreateDirectory(layout);
        File.WriteAllText(Path.Combine(layout, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        // A zero-size layer: its size matches what a FIFO reports, so only the file's kind gives it away.
        var layerDigest = Digest.Sha256([]);
        var layerPath = Path.Combine(layout, "blobs", "sha256", layerDigest.Hex);
        Directory.CreateDirectory(Path.GetDirectoryName(layerPath)!);
        TestUtil.Run("mkfifo", layerPath);
        var config = System.Text.Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{Digest.Sha256("tar"u8)}\"]}}}}");
        var configDigest = WriteBlob(layout, config);
        var manifest = System.Text.Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},"
            + $"\"layers\":[{{\"mediaType\":\"{MediaTypes.OciLayerGzip}\",\"digest\":\"{layerDigest}\",\"size\":0}}]}}");
        var manifestDigest = WriteBlob(layout, manifest);
        File.WriteAllText(Path.Combine(layout, "index.json"), $"{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{manifestDigest}\",\"size\":{manifest.Length}}}]}}");

        var ex = await FailsWithinAsync(() => OciLayoutBase.OpenAsync("oci:base", _dir.Path, CancellationToken.None), layerPath);

        Assert.Equal(KoErrorCodes.InvalidBaseImage, ex.Code);
        Assert.Contains(layerDigest.ToString(), ex.Message);
        Assert.Contains("FIFO", ex.Message);
    }

    [Fact]
    public async Task Output_layout_whose_index_json_is_a_fifo_is_KO3001_not_a_hang()
    {
        var layout = _dir.Combine("out");
        MakeLayout(layout);
        var index = Path.Combine(layout, "index.json");
        ReplaceWithFifo(index);
        var image = await SyntheticBase.Scratch().GetImageAsync(new Platform("linux", "amd64"), CancellationToken.None);
        var built = new NamedArtifact("example.com/x", "ko.local/x", image);

        var ex = await FailsWithinAsync(() => OciLayoutWriter.WriteAsync(layout, [new TaggedImage(built, ["latest"])], CancellationToken.None), index);

        Assert.Equal(KoErrorCodes.OutputNotWritable, ex.Code);
        Assert.Contains(index, ex.Message);
    }
}
