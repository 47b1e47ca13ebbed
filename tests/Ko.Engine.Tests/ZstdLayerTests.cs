using Ko.Engine.Layers;
using Ko.Engine.Oci;

namespace Ko.Engine.Tests;

/// <summary>zstd layers: the real zstd reads them back to the tar the diffID names; bytes are stable; the cache keeps compressions apart.</summary>
public sealed class ZstdLayerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Task<FileLayer> WriteAsync(ContentStore store, byte[] content, LayerCompression compression) =>
        LayerWriter.WriteAsync(
            store,
            async (tar, ct) => await tar.WriteEntryAsync(new Ko.Engine.Layers.TarEntry("data.bin", TarEntryType.File, 0x1a4, 0, 0), content, ct),
            compression,
            CancellationToken.None);

    private static byte[] Content()
    {
        var bytes = new byte[3 << 20];
        new Random(7).NextBytes(bytes.AsSpan(0, 1 << 20)); // a random part and a compressible part
        return bytes;
    }

    [Fact]
    public async Task The_real_zstd_unpacks_a_zstd_layer_to_the_tar_its_diffid_names()
    {
        var store = new ContentStore(_dir.Combine("cache"));
        var layer = await WriteAsync(store, Content(), LayerCompression.Zstd);

        Assert.Equal(MediaTypes.OciLayerZstd, layer.Descriptor.MediaType);
        var tar = _dir.Combine("layer.tar");
        TestUtil.Run("zstd", "-d", "-q", "-o", tar, layer.Path);
        Assert.Equal(TestUtil.Sha256Ref(await File.ReadAllBytesAsync(tar)), layer.DiffId.ToString());
        Assert.Equal(TestUtil.Sha256Ref(await File.ReadAllBytesAsync(layer.Path)), layer.Descriptor.Digest.ToString());
    }

    [Fact]
    public async Task Zstd_and_gzip_layers_of_one_tar_share_the_diffid_and_the_same_input_gives_the_same_bytes()
    {
        var content = Content();
        var zstd = await WriteAsync(new ContentStore(_dir.Combine("a")), content, LayerCompression.Zstd);
        var again = await WriteAsync(new ContentStore(_dir.Combine("b")), content, LayerCompression.Zstd);
        var gzip = await WriteAsync(new ContentStore(_dir.Combine("c")), content, LayerCompression.Gzip);

        Assert.Equal(zstd.Descriptor.Digest, again.Descriptor.Digest);
        Assert.Equal(gzip.DiffId, zstd.DiffId);
        Assert.NotEqual(gzip.Descriptor.Digest, zstd.Descriptor.Digest);
    }

    [Fact]
    public async Task A_gzip_cache_entry_is_never_handed_to_a_zstd_build()
    {
        var store = new ContentStore(_dir.Combine("cache"));
        var gzipCache = new LayerCache(store);
        var layer = await WriteAsync(store, Content(), LayerCompression.Gzip);
        await gzipCache.PutAsync("key", layer, CancellationToken.None);

        Assert.Null(await new LayerCache(store, LayerCompression.Zstd).TryGetAsync("key", CancellationToken.None));
        Assert.Equal(MediaTypes.OciLayerGzip, (await gzipCache.TryGetAsync("key", CancellationToken.None))!.Descriptor.MediaType);
    }

    [Fact]
    public async Task A_truncated_zstd_layer_is_refused_by_the_real_zstd()
    {
        var store = new ContentStore(_dir.Combine("cache"));
        var layer = await WriteAsync(store, Content(), LayerCompression.Zstd);
        var bytes = await File.ReadAllBytesAsync(layer.Path);
        var truncated = _dir.Combine("truncated.zst");
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 2)]);

        Assert.Throws<InvalidOperationException>(() => TestUtil.Run("zstd", "-t", "-q", truncated));
    }
}
