using System.IO.Compression;
using System.Text.Json;
using Ko.Engine.Oci;

namespace Ko.Engine.Layers;

/// <summary>
/// Writes a layer in one pass: entries go through a tar writer, the tar through a SHA-256 (the diffID), gzip at
/// level 1, and a second SHA-256 (the digest) into a temp file that is then renamed into the content store.
/// Nothing is held in memory beyond a copy buffer.
/// </summary>
internal static class LayerWriter
{
    public static async Task<FileLayer> WriteAsync(
        ContentStore store,
        Func<DeterministicTarWriter, CancellationToken, Task> writeEntries,
        CancellationToken cancellationToken)
    {
        var temp = store.NewTempPath("layer");
        try
        {
            Digest digest, diffId;
            long size;
            var file = store.CreateTemp(temp);
            await using (file.ConfigureAwait(false))
            {
                var compressedHash = new HashingStream(file, leaveOpen: true);
                await using (compressedHash.ConfigureAwait(false))
                {
#if NET9_0_OR_GREATER
                    var gzip = new GZipStream(compressedHash, new ZLibCompressionOptions { CompressionLevel = 1 }, leaveOpen: true);
#else
                    var gzip = new GZipStream(compressedHash, CompressionLevel.Fastest, leaveOpen: true); // zlib level 1 too (zlib, not .NET 9's zlib-ng: other bytes)
#endif
                    await using (gzip.ConfigureAwait(false))
                    {
                        var tarHash = new HashingStream(gzip, leaveOpen: true);
                        await using (tarHash.ConfigureAwait(false))
                        {
                            var tar = new DeterministicTarWriter(tarHash, leaveOpen: true);
                            await using (tar.ConfigureAwait(false))
                            {
                                await writeEntries(tar, cancellationToken).ConfigureAwait(false);
                                await tar.FinishAsync(cancellationToken).ConfigureAwait(false);
                            }

                            diffId = tarHash.FinishDigest();
                        }
                    }

                    digest = compressedHash.FinishDigest();
                    size = compressedHash.BytesWritten;
                }
            }

            var path = store.Commit(temp, digest);
            return new FileLayer(new Descriptor(MediaTypes.OciLayerGzip, digest, size), diffId, path);
        }
        catch
        {
            Util.FileSystem.TryDelete(temp);
            throw;
        }
    }
}

/// <summary>
/// Remembers which layer a set of inputs produced, so an unchanged input skips tar, gzip and hashing. Entries live
/// in <c>layers/&lt;key&gt;.json</c>; a hit is used only when the blob still hashes to its digest.
/// </summary>
internal sealed class LayerCache(ContentStore store)
{
    private string EntryPath(string key) => Path.Combine(store.Root, "layers", key + ".json");

    public async Task<FileLayer?> TryGetAsync(string key, CancellationToken cancellationToken)
    {
        var entryPath = EntryPath(key);
        if (!File.Exists(entryPath))
        {
            return null;
        }

        try
        {
            // An entry is a few hundred bytes; anything else (a FIFO, a huge file) is not one of ours.
            var bytes = await Util.BoundedFile.ReadAsync(entryPath, 64 << 10, cancellationToken).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            var digest = Digest.Parse(root.GetProperty("digest").GetString()!);
            var diffId = Digest.Parse(root.GetProperty("diffID").GetString()!);
            var size = root.GetProperty("size").GetInt64();
            if (!await store.VerifyAsync(digest, size, cancellationToken).ConfigureAwait(false))
            {
                Util.FileSystem.TryDelete(entryPath);
                return null;
            }

            return new FileLayer(new Descriptor(MediaTypes.OciLayerGzip, digest, size), diffId, store.BlobPath(digest));
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            // Unreadable or garbled: a miss; the rebuilt layer's entry replaces it.
            Util.FileSystem.TryDelete(entryPath);
            return null;
        }
    }

    public async Task PutAsync(string key, ILayer layer, CancellationToken cancellationToken)
    {
        var bytes = OciJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("digest", layer.Descriptor.Digest.ToString());
            w.WriteNumber("size", layer.Descriptor.Size);
            w.WriteString("diffID", layer.DiffId.ToString());
            w.WriteEndObject();
        });
        var entryPath = EntryPath(key);
        var temp = store.NewTempPath("layer-entry");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(entryPath)!);
            var stream = store.CreateTemp(temp);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }

            // Rename over: two runs that made the same entry both land, and a reader sees one whole entry.
            File.Move(temp, entryPath, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw ContentStore.WriteFailed(entryPath, ex);
        }
        finally
        {
            Util.FileSystem.TryDelete(temp);
        }
    }
}
