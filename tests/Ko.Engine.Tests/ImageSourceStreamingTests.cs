using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using Ko.Engine.Oci;
using Ko.Engine.Registry;
using Ko.Engine.Sources;

namespace Ko.Engine.Tests;

[CollectionDefinition(nameof(ImageSourceStreamingTests), DisableParallelization = true)]
public sealed class ImageSourceStreamingCollection;

/// <summary>
/// Archives are read in place: reading one with a 128 MiB layer and streaming that layer allocates a small, constant
/// amount, never the layer (run alone, so that other tests' allocations do not count).
/// </summary>
[Collection(nameof(ImageSourceStreamingTests))]
public sealed class ImageSourceStreamingTests : IDisposable
{
    private const long LayerSize = 128L << 20;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>An archive holding an OCI layout (and a docker manifest.json) of one image with one big layer of zeros.</summary>
    private string Archive(bool ociParts)
    {
        var layerFile = _dir.Combine("layer");
        using (var f = File.Create(layerFile))
        {
            f.SetLength(LayerSize);
        }

        Digest layer;
        using (var f = File.OpenRead(layerFile))
        {
            layer = Digest.FromSha256Hash(SHA256.HashData(f));
        }

        var config = Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{layer}\"]}}}}");
        var manifest = new Manifest(MediaTypes.OciManifest, new Descriptor(MediaTypes.OciConfig, Digest.Sha256(config), config.Length), [new Descriptor(MediaTypes.OciLayer, layer, LayerSize)]).ToBytes();
        var index = new Oci.Index(MediaTypes.OciIndex, [new Descriptor(MediaTypes.OciManifest, Digest.Sha256(manifest), manifest.Length)]).ToBytes();
        var path = _dir.Combine("big.tar");
        using var stream = File.Create(path);
        using var writer = new TarWriter(stream, TarEntryFormat.Pax);
        void Add(string name, Stream data) => writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = data });
        if (ociParts)
        {
            Add("oci-layout", new MemoryStream("{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray()));
            Add("index.json", new MemoryStream(index));
        }

        Add($"blobs/sha256/{Digest.Sha256(manifest).Hex}", new MemoryStream(manifest));
        Add($"blobs/sha256/{Digest.Sha256(config).Hex}", new MemoryStream(config));
        using (var data = File.OpenRead(layerFile))
        {
            Add($"blobs/sha256/{layer.Hex}", data);
        }

        // The same archive as an old docker archive: manifest.json naming the config and the (uncompressed) layer.
        Add("manifest.json", new MemoryStream(Encoding.UTF8.GetBytes($"[{{\"Config\":\"blobs/sha256/{Digest.Sha256(config).Hex}\",\"Layers\":[\"blobs/sha256/{layer.Hex}\"]}}]")));
        return path;
    }

    [Theory]
    [InlineData("oci-archive", true)]
    [InlineData("docker-archive", true)]
    [InlineData("docker-archive", false)]
    public async Task Reading_an_archive_and_streaming_a_128_MiB_layer_allocates_under_8_MiB(string transport, bool ociParts)
    {
        var archive = Archive(ociParts);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using (var source = await ImageSources.OpenAsync($"{transport}:{archive}", "/", () => new RegistryOptions(), null, null, CancellationToken.None))
        {
            var image = Assert.Single((await source.ReadAsync(CancellationToken.None)).Images);
            await using var layer = await image.Layers[0].OpenCompressedAsync(CancellationToken.None);
            var buffer = new byte[1 << 16];
            long total = 0;
            int n;
            while ((n = await layer.ReadAsync(buffer)) > 0)
            {
                total += n;
            }

            Assert.Equal(LayerSize, total);
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Console.WriteLine($"{transport} (OCI parts: {ociParts}): read and streamed a {LayerSize >> 20} MiB layer in {started.ElapsedMilliseconds} ms, allocating {allocated / 1024} KiB");
        Assert.True(allocated < 8 << 20, $"reading a {LayerSize >> 20} MiB layer allocated {allocated} bytes");
    }
}
