using System.Text.Json;
using Ko.Engine.Oci;

namespace Ko.Engine.Layers;

/// <summary>
/// Writes a layer in one pass: entries go through a tar writer, the tar through a SHA-256 (the diffID), parallel
/// deterministic gzip (<see cref="ParallelGzipStream"/>), and a second SHA-256 (the digest) into a temp file that
/// is then renamed into the content store. Memory is flat in the layer's size: a few 1 MiB blocks per worker.
/// </summary>
internal static class LayerWriter
{
    /// <summary>The OCI layer media type of a compression.</summary>
    public static string MediaTypeOf(LayerCompression compression) =>
        compression == LayerCompression.Zstd ? MediaTypes.OciLayerZstd : MediaTypes.OciLayerGzip;

    /// <summary>The zstd level for <see cref="LayerCompression.Zstd"/> layers: zstd's default, fast and deterministic.</summary>
    public const int ZstdLevel = 3;

    public static Task<FileLayer> WriteAsync(
        ContentStore store,
        Func<DeterministicTarWriter, CancellationToken, Task> writeEntries,
        CancellationToken cancellationToken) =>
        WriteAsync(store, writeEntries, LayerCompression.Gzip, cancellationToken);

    public static async Task<FileLayer> WriteAsync(
        ContentStore store,
        Func<DeterministicTarWriter, CancellationToken, Task> writeEntries,
        LayerCompression compression,
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
                    var gzip = compression == LayerCompression.Zstd
                        ? new ZstdLayerStream(compressedHash, ZstdLevel)
                        : (Stream)new ParallelGzipStream(compressedHash, leaveOpen: true);
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

                        await (gzip is ParallelGzipStream parallel
                            ? parallel.FinishAsync(cancellationToken)
                            : ((ZstdLayerStream)gzip).FinishAsync(cancellationToken)).ConfigureAwait(false);
                    }

                    digest = compressedHash.FinishDigest();
                    size = compressedHash.BytesWritten;
                }
            }

            // Read-only from the start (as BlobFiles makes a blob it links), so linking it into a layout later changes
            // nothing about the file, and its stat fingerprint in the layer cache stays valid.
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, Util.BlobFiles.ReadOnly);
            }

            var path = store.Commit(temp, digest);
            return new FileLayer(new Descriptor(MediaTypeOf(compression), digest, size), diffId, path) { Verified = Util.UnixFileStatus.FingerprintOf(path, followLinks: false) };
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
/// in <c>layers/&lt;key&gt;.json</c>; a hit is used only when the blob still hashes to its digest. An entry also
/// keeps the blob's stat fingerprint from when it was last hashed: while the blob's fingerprint is the same (no write,
/// chmod, rename or touch since), it is not hashed again; when it differs it is hashed, and the entry is updated.
/// </summary>
internal sealed class LayerCache(ContentStore store, LayerCompression compression = LayerCompression.Gzip)
{
    /// <summary>How the layers this cache holds (and the layers made for it) are compressed.</summary>
    public LayerCompression Compression => compression;

    // One key, two compressions: two entries (a gzip layer is never handed out for a zstd build, or back).
    private string EntryPath(string key) =>
        Path.Combine(store.Root, "layers", key + (compression == LayerCompression.Zstd ? ".zstd" : string.Empty) + ".json");

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
            var layer = new FileLayer(new Descriptor(LayerWriter.MediaTypeOf(compression), digest, size), diffId, store.BlobPath(digest));
            // The blob's own stamp (one per blob, kept current when this engine links the blob into a layout), else
            // the fingerprint this entry was written with (caches from before the stamps).
            var seen = ReadStamp(layer.Path) ?? (root.TryGetProperty("blobStat", out var stat) ? stat.GetString() : null);
            var now = Util.UnixFileStatus.FingerprintOf(layer.Path, followLinks: false);
            if (seen is not null && now is { } fingerprint && fingerprint.Size == size && fingerprint.ToString() == seen)
            {
                return new FileLayer(layer.Descriptor, diffId, layer.Path) { Verified = fingerprint };
            }

            if (!await store.VerifyAsync(digest, size, cancellationToken).ConfigureAwait(false))
            {
                Util.FileSystem.TryDelete(entryPath);
                return null;
            }

            // The fingerprint from before the hash: a write during it changes the fingerprint, so nothing trusts it.
            layer = new FileLayer(layer.Descriptor, diffId, layer.Path) { Verified = now };

            // Hashed and good: remember the fingerprint it was good with, so the next use need not hash it. Only an
            // optimisation: a read-only cache still serves the hit (and hashes again next time).
            try
            {
                await PutAsync(key, layer, cancellationToken).ConfigureAwait(false);
            }
            catch (KoException ex) when (ex.Code == KoErrorCodes.CacheUnusable)
            {
                // The entry stays as it was; PutAsync removed its own temporary file.
            }

            return layer;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            // Unreadable or garbled: a miss; the rebuilt layer's entry replaces it.
            Util.FileSystem.TryDelete(entryPath);
            return null;
        }
    }

    /// <summary>Records <paramref name="layer"/> (whose blob is known to hash to its digest) under <paramref name="key"/>.</summary>
    public async Task PutAsync(string key, ILayer layer, CancellationToken cancellationToken)
    {
        var fingerprint = await SettledFingerprintAsync(store.BlobPath(layer.Descriptor.Digest), cancellationToken).ConfigureAwait(false);
        if (fingerprint is { } settled)
        {
            WriteStamp(store.BlobPath(layer.Descriptor.Digest), settled);
        }

        var bytes = OciJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("digest", layer.Descriptor.Digest.ToString());
            w.WriteNumber("size", layer.Descriptor.Size);
            w.WriteString("diffID", layer.DiffId.ToString());
            if (fingerprint is not null)
            {
                w.WriteString("blobStat", fingerprint.Value.ToString());
            }

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

    /// <summary>
    /// After this engine hard-linked a cached blob into an OCI layout: the link changed only the blob's change time
    /// (and link count). When the blob still had the fingerprint its bytes were verified with just before the link
    /// (<paramref name="before"/>) and nothing but the change time differs now, its stamp moves to the new fingerprint,
    /// so the next run need not hash it again. Anything else leaves the stamp, and the next use hashes the blob. (The
    /// verified fingerprint was settled, so its modification time is old: a write after the check gives a new one.)
    /// </summary>
    public static void Relinked(string blobPath, Util.FileFingerprint before)
    {
        if (Util.UnixFileStatus.FingerprintOf(blobPath, followLinks: false) is { } after
            && after != before
            && after with { ChangedNs = before.ChangedNs } == before)
        {
            WriteStamp(blobPath, after);
        }
    }

    /// <summary>Where a blob's stamp lives: <c>layers/stamps/ALGORITHM/HEX</c> beside the entries, for a blob in <c>blobs/ALGORITHM/HEX</c>.</summary>
    private static string? StampPath(string blobPath)
    {
        var algorithmDir = Path.GetDirectoryName(blobPath);
        var blobsDir = Path.GetDirectoryName(algorithmDir);
        var root = Path.GetDirectoryName(blobsDir);
        return root is null || Path.GetFileName(blobsDir) != "blobs" ? null : Path.Combine(root, "layers", "stamps", Path.GetFileName(algorithmDir)!, Path.GetFileName(blobPath));
    }

    private static string? ReadStamp(string blobPath)
    {
        var path = StampPath(blobPath);
        try
        {
            return path is not null && File.Exists(path) && new FileInfo(path).Length < 256 && Util.UnixFileStatus.KindOf(path, followLinks: false) == Util.FileKind.Regular
                ? File.ReadAllText(path).Trim()
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void WriteStamp(string blobPath, Util.FileFingerprint fingerprint)
    {
        // Without a stamp the next use hashes the blob, as before stamps existed.
        if (StampPath(blobPath) is { } path)
        {
            Util.FileSystem.TryReplace(path, System.Text.Encoding.UTF8.GetBytes(fingerprint.ToString()));
        }
    }

    /// <summary>
    /// The blob's fingerprint once it is old enough to catch the next write: a blob renamed into the store a moment
    /// ago waits out one racy window (at most 30 ms, once per new layer), so a write in the same clock tick cannot
    /// leave the fingerprint unchanged.
    /// </summary>
    private static async Task<Util.FileFingerprint?> SettledFingerprintAsync(string path, CancellationToken cancellationToken)
    {
        var fingerprint = Util.UnixFileStatus.FingerprintOf(path, followLinks: false);
        if (fingerprint is { } f && f.IsRacy(DateTimeOffset.UtcNow))
        {
            await Task.Delay(Util.FileFingerprint.RacyWindow, cancellationToken).ConfigureAwait(false);
            // Anything that touched the blob in the meantime: no fingerprint (the next use hashes it).
            if (Util.UnixFileStatus.FingerprintOf(path, followLinks: false) != f)
            {
                return null;
            }
        }

        return fingerprint is { } settled && !settled.IsRacy(DateTimeOffset.UtcNow) ? settled : null;
    }
}
