using System.Text.Json;
using Ko.Engine.Images;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using Ko.Engine.Util;

namespace Ko.Engine.Sinks;

/// <summary>One image to write with the tags it carries.</summary>
internal sealed record TaggedImage(NamedArtifact Image, IReadOnlyList<string> Tags);

/// <summary>
/// Writes built images into an OCI image layout directory. A new layout is written beside the target and renamed
/// into place; an existing layout gains blobs (content-addressed, so harmless) and then a new <c>index.json</c> by
/// rename, so a failure leaves the previous index untouched. Each tag becomes an entry whose
/// <c>org.opencontainers.image.ref.name</c> is the full <c>name:tag</c> reference (so <c>podman load</c> names the
/// image, and several import paths can share one layout), replacing an older entry of that name.
/// </summary>
internal static class OciLayoutWriter
{
    /// <summary>The <c>oci-layout</c> file every layout (and archive of one) carries.</summary>
    internal static readonly byte[] LayoutFile = "{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray();

    /// <summary>Writes the <c>blobs</c> and <c>blobs/sha256</c> directory entries that open a layout in a tar.</summary>
    internal static async Task WriteBlobDirectoriesAsync(DeterministicTarWriter tar, CancellationToken cancellationToken)
    {
        const int Dir = 0x1ed;
        await tar.WriteEntryAsync(new TarEntry("blobs", TarEntryType.Directory, Dir, 0, 0), cancellationToken).ConfigureAwait(false);
        await tar.WriteEntryAsync(new TarEntry("blobs/sha256", TarEntryType.Directory, Dir, 0, 0), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes <paramref name="images"/> into the layout at <paramref name="path"/>. SBOM artifacts add their blobs
    /// (empty config, document, artifact manifest); with <paramref name="listSboms"/> index.json also gets an entry
    /// per artifact (its descriptor with <c>artifactType</c>, no ref name).
    /// </summary>
    public static async Task WriteAsync(string path, IReadOnlyList<TaggedImage> images, CancellationToken cancellationToken, IReadOnlyList<Sbom.SbomArtifact>? sboms = null, bool listSboms = false, TimeSpan? lockTimeout = null)
    {
        sboms ??= [];

        // "out/" names the directory out: its lock and temporaries go beside it, never inside.
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        try
        {
            AtomicOutput.EnsureParent(target);

            // One writer at a time per layout (other runs, other threads): index.json is read, changed and replaced
            // under the lock, so concurrent builds with different tags all land.
            using var held = await LockAsync(target, lockTimeout ?? Util.FileLock.DefaultTimeout, cancellationToken).ConfigureAwait(false);
            RemoveStaleTemporaries(target);
            var exists = Directory.Exists(target);
            if (exists && File.Exists(Path.Combine(target, "oci-layout")))
            {
                await WriteIntoAsync(target, images, await ReadExistingEntriesAsync(target, cancellationToken).ConfigureAwait(false), sboms, listSboms, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (exists && Directory.EnumerateFileSystemEntries(target).Any())
            {
                throw new KoException(KoErrorCodes.OutputNotWritable, $"{target} exists and is not an OCI image layout; choose an empty or new directory for --oci-layout-path.");
            }

            if (File.Exists(target))
            {
                throw new KoException(KoErrorCodes.OutputNotWritable, $"{target} is a file; --oci-layout-path needs a directory.");
            }

            var temp = AtomicOutput.TempPath(target);
            try
            {
                Directory.CreateDirectory(temp);
                await WriteIntoAsync(temp, images, [], sboms, listSboms, cancellationToken).ConfigureAwait(false);
                if (exists)
                {
                    Directory.Delete(target);
                }

                Directory.Move(temp, target);
            }
            catch
            {
                Util.FileSystem.TryDelete(temp);
                throw;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.OutputNotWritable, $"writing the OCI layout {target} failed: {Util.SystemMessage.Of(ex)} Check that the location is writable and the inputs readable.", ex);
        }
    }

    /// <summary>The lock file beside a layout (<c>.NAME.lock</c>), held while the layout is written.</summary>
    internal static string LockPath(string fullPath) => Path.Combine(Path.GetDirectoryName(fullPath)!, $".{Path.GetFileName(fullPath)}.lock");

    /// <summary>The lock file inside an existing layout, for writers that cannot write beside it.</summary>
    internal const string InnerLockName = ".ko-layout.lock";

    /// <summary>
    /// Takes the layout's lock: <see cref="LockPath"/> beside it; when that directory cannot be written (a layout on a
    /// volume mounted into a read-only directory, where writing into the layout worked before the lock existed), the
    /// lock file inside the existing layout, where every writer that cannot write beside it meets.
    /// </summary>
    private static async Task<Util.FileLock> LockAsync(string target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var what = $"the OCI layout {target}";
        try
        {
            return await Util.FileLock.AcquireAsync(LockPath(target), what, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (KoException ex) when (ex.Code == KoErrorCodes.OutputNotWritable && File.Exists(Path.Combine(target, "oci-layout")))
        {
            return await Util.FileLock.AcquireAsync(Path.Combine(target, InnerLockName), what, timeout, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Removes what a killed writer of this layout left: <c>.NAME.tmp-*</c> beside it, <c>*.tmp-*</c> blobs and
    /// <c>.index.json.tmp-*</c> inside. Called under the layout's lock, so no live writer owns any of them.
    /// </summary>
    private static void RemoveStaleTemporaries(string target)
    {
        Util.StaleTemporaries.RemoveUnderLock(Util.StaleTemporaries.Find(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.tmp-*"));
        Util.StaleTemporaries.RemoveUnderLock(Util.StaleTemporaries.Find(target, ".index.json.tmp-*"));
        Util.StaleTemporaries.RemoveUnderLock(Util.StaleTemporaries.Find(Path.Combine(target, "blobs", "sha256"), "*.tmp-*"));
    }

    /// <summary>Every blob of the images, each once: layers, configs, manifests, indexes.</summary>
    internal static IEnumerable<(Digest Digest, long Size, Func<CancellationToken, ValueTask<Stream>> Open)> Blobs(IEnumerable<NamedArtifact> images, IReadOnlyList<Sbom.SbomArtifact>? sboms = null)
    {
        var seen = new HashSet<Digest>();
        foreach (var sbom in sboms ?? [])
        {
            foreach (var blob in sbom.Blobs())
            {
                if (seen.Add(blob.Digest))
                {
                    yield return blob;
                }
            }

            if (seen.Add(sbom.Digest))
            {
                var bytes = sbom.ManifestBytes;
                yield return (sbom.Digest, bytes.Length, _ => ValueTask.FromResult<Stream>(new MemoryStream(bytes, false)));
            }
        }

        foreach (var built in images)
        {
            foreach (var image in built.Images)
            {
                foreach (var layer in image.Layers)
                {
                    if (seen.Add(layer.Descriptor.Digest))
                    {
                        yield return (layer.Descriptor.Digest, layer.Descriptor.Size, layer.OpenCompressedAsync);
                    }
                }

                if (seen.Add(image.Manifest.Config.Digest))
                {
                    var bytes = image.ConfigBytes;
                    yield return (image.Manifest.Config.Digest, bytes.Length, _ => ValueTask.FromResult<Stream>(new MemoryStream(bytes.ToArray(), false)));
                }

                if (seen.Add(image.Digest))
                {
                    var bytes = image.ManifestBytes;
                    yield return (image.Digest, bytes.Length, _ => ValueTask.FromResult<Stream>(new MemoryStream(bytes.ToArray(), false)));
                }
            }

            if (built.Index is not null && seen.Add(built.Index.Digest))
            {
                var bytes = built.Index.IndexBytes;
                yield return (built.Index.Digest, bytes.Length, _ => ValueTask.FromResult<Stream>(new MemoryStream(bytes.ToArray(), false)));
            }
        }
    }

    /// <summary>The layout's top-level index: earlier entries (minus replaced names), then the new ones.</summary>
    internal static byte[] TopIndex(IReadOnlyList<Descriptor> existing, IReadOnlyList<TaggedImage> images, IReadOnlyList<Sbom.SbomArtifact>? listedSboms = null, IReadOnlySet<Digest>? staleSboms = null)
    {
        var entries = new List<Descriptor>();
        foreach (var tagged in images)
        {
            foreach (var tag in tagged.Tags)
            {
                entries.Add(tagged.Image.RootDescriptor with
                {
                    Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [AnnotationKeys.RefName] = $"{tagged.Image.Name}:{tag}" },
                });
            }
        }

        var newNames = entries.Select(e => e.Annotations![AnnotationKeys.RefName]).ToHashSet(StringComparer.Ordinal);
        entries.AddRange((listedSboms ?? []).Select(s => s.Descriptor));
        var newDigests = entries.Select(e => e.Digest).ToHashSet();
        var kept = existing.Where(e =>
        {
            var name = e.Annotations?.GetValueOrDefault(AnnotationKeys.RefName);
            return name is null ? !newDigests.Contains(e.Digest) : !newNames.Contains(name);
        });
        var all = kept.Concat(entries).ToList();
        return new Oci.Index(MediaTypes.OciIndex, staleSboms is null ? all : all.Where(e => !staleSboms.Contains(e.Digest) || !IsSbomListing(e)).ToList()).ToBytes();
    }

    /// <summary>
    /// The SBOM entries (unnamed, with an SBOM <c>artifactType</c>) of an existing index.json whose subject no named
    /// entry reaches any more (its image was replaced by a later run), so a layout written again and again does not
    /// accumulate them. <paramref name="named"/> are the entries the new index.json names. Subjects and indexes are
    /// read from the layout's blobs, bounded; an entry whose blob cannot be read is kept (it is not ours to judge).
    /// </summary>
    internal static async Task<IReadOnlySet<Digest>> StaleSbomsAsync(string dir, IReadOnlyList<Descriptor> existing, IEnumerable<Descriptor> named, CancellationToken cancellationToken)
    {
        var stale = new HashSet<Digest>();
        var listings = existing.Where(IsSbomListing).ToList();
        if (listings.Count == 0)
        {
            return stale;
        }

        var reachable = new HashSet<Digest>();
        foreach (var entry in named)
        {
            reachable.Add(entry.Digest);
            if (MediaTypes.IsIndex(entry.MediaType) && await ReadBlobAsync(dir, entry.Digest, cancellationToken).ConfigureAwait(false) is { } bytes && TryParse(() => Oci.Index.Parse(bytes, "index")) is { } index)
            {
                reachable.UnionWith(index.Manifests.Select(m => m.Digest));
            }
        }

        foreach (var sbom in listings)
        {
            if (await ReadBlobAsync(dir, sbom.Digest, cancellationToken).ConfigureAwait(false) is { } bytes
                && TryParse(() => Manifest.Parse(bytes, "sbom")) is { Subject: { } subject }
                && !reachable.Contains(subject.Digest))
            {
                stale.Add(sbom.Digest);
            }
        }

        return stale;
    }

    private static bool IsSbomListing(Descriptor entry) =>
        entry.Annotations?.ContainsKey(AnnotationKeys.RefName) != true
        && entry.ArtifactType is Sbom.SbomDocuments.SpdxMediaType or Sbom.SbomDocuments.CycloneDxMediaType;

    private static async Task<byte[]?> ReadBlobAsync(string dir, Digest digest, CancellationToken cancellationToken)
    {
        try
        {
            return await Util.BoundedFile.ReadAsync(Path.Combine(dir, "blobs", digest.Algorithm, digest.Hex), Sources.OciLayoutReader.MaxIndexBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or KoException)
        {
            return null;
        }
    }

    private static T? TryParse<T>(Func<T> parse)
        where T : class
    {
        try
        {
            return parse();
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }

    private static async Task WriteIntoAsync(string dir, IReadOnlyList<TaggedImage> images, IReadOnlyList<Descriptor> existing, IReadOnlyList<Sbom.SbomArtifact> sboms, bool listSboms, CancellationToken cancellationToken)
    {
        var blobDir = Path.Combine(dir, "blobs", "sha256");
        Directory.CreateDirectory(blobDir);
        var cached = CachedBlobs(images.Select(i => i.Image));
        foreach (var (digest, size, open) in Blobs(images.Select(i => i.Image), sboms))
        {
            var blobPath = Path.Combine(dir, "blobs", digest.Algorithm, digest.Hex);
            if (cached.GetValueOrDefault(digest) is { } layer && await PlaceFromCacheAsync(layer, blobPath, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            if (await HoldsAsync(blobPath, digest, size, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            var temp = blobPath + ".tmp-" + Util.StaleTemporaries.NameToken();
            try
            {
                await using (var source = await open(cancellationToken).ConfigureAwait(false))
                await using (var destination = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                {
                    await source.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
                }

                File.Move(temp, blobPath, overwrite: true);
            }
            catch
            {
                Util.FileSystem.TryDelete(temp);
                throw;
            }
        }

        var layoutPath = Path.Combine(dir, "oci-layout");
        if (!File.Exists(layoutPath))
        {
            await File.WriteAllBytesAsync(layoutPath, LayoutFile, cancellationToken).ConfigureAwait(false);
        }

        var indexTemp = Path.Combine(dir, ".index.json.tmp-" + Util.StaleTemporaries.NameToken());
        var newNames = images.SelectMany(i => i.Tags.Select(t => $"{i.Image.Name}:{t}")).ToHashSet(StringComparer.Ordinal);
        var named = existing
            .Where(e => e.Annotations?.GetValueOrDefault(AnnotationKeys.RefName) is { } name && !newNames.Contains(name))
            .Concat(images.Select(i => i.Image.RootDescriptor));
        var stale = await StaleSbomsAsync(dir, existing, named, cancellationToken).ConfigureAwait(false);
        await File.WriteAllBytesAsync(indexTemp, TopIndex(existing, images, listSboms ? sboms : null, stale), cancellationToken).ConfigureAwait(false);
        File.Move(indexTemp, Path.Combine(dir, "index.json"), overwrite: true);
    }

    /// <summary>
    /// The layers whose compressed bytes are a blob of the content store (<see cref="FileLayer"/>: written once, by
    /// rename, and never changed in place by the engine), by digest: those may be shared with the layout by a hard link.
    /// </summary>
    private static Dictionary<Digest, FileLayer> CachedBlobs(IEnumerable<NamedArtifact> images)
    {
        var result = new Dictionary<Digest, FileLayer>();
        foreach (var layer in images.SelectMany(i => i.Images).SelectMany(i => i.Layers).OfType<FileLayer>())
        {
            result.TryAdd(layer.Descriptor.Digest, layer);
        }

        return result;
    }

    /// <summary>
    /// Places a cached layer's blob into the layout without reading it when it can: nothing to do when the layout's
    /// file already is the cache's (a link an earlier run made), else a hard link on one file system or a copy
    /// (<see cref="BlobFiles.LinkOrCopy"/>). The cache's file is hashed first only when its stat fingerprint is no
    /// longer the one it was checked with (something wrote to it, perhaps through a layout's link): wrong bytes then
    /// are a KO3010 and the blob leaves the cache (the next run makes the layer again), never a layout with bad
    /// bytes. False when the cache's file is gone: the caller streams the layer instead (and reports what fails).
    /// </summary>
    private static async Task<bool> PlaceFromCacheAsync(FileLayer layer, string blobPath, CancellationToken cancellationToken)
    {
        var now = UnixFileStatus.FingerprintOf(layer.Path, followLinks: false);
        if (now is null)
        {
            return false;
        }

        if (now != layer.Verified && !await HoldsAsync(layer.Path, layer.Descriptor.Digest, layer.Descriptor.Size, cancellationToken).ConfigureAwait(false))
        {
            Util.FileSystem.TryDelete(layer.Path);
            throw new KoException(KoErrorCodes.CacheUnusable, $"the cached layer {layer.Path} no longer holds the bytes of {layer.Descriptor.Digest} (something wrote into it, perhaps through a hard link in an OCI layout); it was removed from the cache. Run the build again.");
        }

        if (BlobFiles.AreSameFile(layer.Path, blobPath))
        {
            return true;
        }

        try
        {
            BlobFiles.LinkOrCopy(layer.Path, blobPath);
            if (now == layer.Verified && BlobFiles.AreSameFile(layer.Path, blobPath))
            {
                Layers.LayerCache.Relinked(layer.Path, now.Value); // the link changed only the blob's change time
            }

            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// True when the layout already holds the blob with the right bytes. A blob of the right size is re-hashed (a
    /// corrupt one would otherwise be kept and the build would report success); a wrong one is replaced.
    /// </summary>
    private static async Task<bool> HoldsAsync(string blobPath, Digest digest, long size, CancellationToken cancellationToken)
    {
        var info = new FileInfo(blobPath);
        if (!info.Exists || info.Length != size || digest.Algorithm != "sha256")
        {
            return false;
        }

        if (size < Digest.ManagedHashLimit)
        {
            // Configs, manifests and SBOMs: hashed in managed code, so a no-op rebuild does not load OpenSSL for them.
            try
            {
                var bytes = await Util.BoundedFile.ReadAsync(blobPath, size, cancellationToken).ConfigureAwait(false);
                return Digest.Sha256(bytes) == digest;
            }
            catch (FormatException)
            {
                return false; // not a regular file, or it grew: written again
            }
        }

        await using var stream = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var hash = await System.Security.Cryptography.SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash) == digest.Hex;
    }

    private static async Task<List<Descriptor>> ReadExistingEntriesAsync(string dir, CancellationToken cancellationToken)
    {
        var indexPath = Path.Combine(dir, "index.json");
        if (!File.Exists(indexPath))
        {
            return [];
        }

        try
        {
            var bytes = await Util.BoundedFile.ReadAsync(indexPath, Sources.OciLayoutReader.MaxIndexBytes, cancellationToken).ConfigureAwait(false);
            return Oci.Index.Parse(bytes, indexPath).Manifests.ToList();
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            throw new KoException(KoErrorCodes.OutputNotWritable, $"{indexPath} is not a valid OCI index ({ex.Message}); fix or remove it before writing to this layout.", ex);
        }
    }
}

/// <summary>Writes the same content as an OCI layout, as one uncompressed tar file (<c>--oci-archive</c>), atomically.</summary>
internal static class OciArchiveWriter
{
    public static Task WriteAsync(string path, IReadOnlyList<TaggedImage> images, CancellationToken cancellationToken, IReadOnlyList<Sbom.SbomArtifact>? sboms = null, bool listSboms = false) =>
        AtomicOutput.WriteFileAsync(
            path,
            async (stream, ct) =>
            {
                var tar = new DeterministicTarWriter(stream, leaveOpen: true);
                await using (tar.ConfigureAwait(false))
                {
                    const int FileMode = 0x1a4;
                    await OciLayoutWriter.WriteBlobDirectoriesAsync(tar, ct).ConfigureAwait(false);
                    foreach (var (digest, size, open) in OciLayoutWriter.Blobs(images.Select(i => i.Image), sboms))
                    {
                        await using var content = await open(ct).ConfigureAwait(false);
                        await tar.WriteEntryAsync(new TarEntry($"blobs/{digest.Algorithm}/{digest.Hex}", TarEntryType.File, FileMode, size, 0), content, ct).ConfigureAwait(false);
                    }

                    await tar.WriteEntryAsync(new TarEntry("index.json", TarEntryType.File, FileMode, 0, 0), OciLayoutWriter.TopIndex([], images, listSboms ? sboms : null), ct).ConfigureAwait(false);
                    await tar.WriteEntryAsync(new TarEntry("oci-layout", TarEntryType.File, FileMode, 0, 0), OciLayoutWriter.LayoutFile, ct).ConfigureAwait(false);
                    await tar.FinishAsync(ct).ConfigureAwait(false);
                }
            },
            cancellationToken);
}

/// <summary>
/// Writes a docker-archive (<c>docker save</c> format: <c>manifest.json</c>, config, gzip layers) that
/// <c>podman load</c> and <c>docker load</c> accept, for single-platform images. As <c>docker save</c> of Docker 25+,
/// the archive is also an OCI layout (<c>oci-layout</c>, <c>index.json</c>, every blob under <c>blobs/sha256/</c>,
/// the manifest included, and <c>manifest.json</c> points at those blobs), so reading it back gives the image with
/// the digest it was built with.
/// </summary>
internal static class DockerArchiveWriter
{
    private const string ContainerdImageName = "io.containerd.image.name";

    public static Task WriteAsync(string path, IReadOnlyList<(IImage Image, IReadOnlyList<string> RepoTags)> images, CancellationToken cancellationToken) =>
        AtomicOutput.WriteFileAsync(
            path,
            async (stream, ct) =>
            {
                var tar = new DeterministicTarWriter(stream, leaveOpen: true);
                await using (tar.ConfigureAwait(false))
                {
                    const int FileMode = 0x1a4;
                    await OciLayoutWriter.WriteBlobDirectoriesAsync(tar, ct).ConfigureAwait(false);
                    var written = new HashSet<Digest>();
                    foreach (var (image, _) in images)
                    {
                        if (written.Add(image.Manifest.Config.Digest))
                        {
                            await tar.WriteEntryAsync(new TarEntry(BlobName(image.Manifest.Config.Digest), TarEntryType.File, FileMode, 0, 0), image.ConfigBytes, ct).ConfigureAwait(false);
                        }

                        foreach (var layer in image.Layers)
                        {
                            if (written.Add(layer.Descriptor.Digest))
                            {
                                await using var content = await layer.OpenCompressedAsync(ct).ConfigureAwait(false);
                                await tar.WriteEntryAsync(new TarEntry(BlobName(layer.Descriptor.Digest), TarEntryType.File, FileMode, layer.Descriptor.Size, 0), content, ct).ConfigureAwait(false);
                            }
                        }

                        if (written.Add(image.Digest))
                        {
                            await tar.WriteEntryAsync(new TarEntry(BlobName(image.Digest), TarEntryType.File, FileMode, 0, 0), image.ManifestBytes, ct).ConfigureAwait(false);
                        }
                    }

                    await tar.WriteEntryAsync(new TarEntry("index.json", TarEntryType.File, FileMode, 0, 0), TopIndex(images), ct).ConfigureAwait(false);
                    await tar.WriteEntryAsync(new TarEntry("manifest.json", TarEntryType.File, FileMode, 0, 0), ManifestJson(images), ct).ConfigureAwait(false);
                    await tar.WriteEntryAsync(new TarEntry("oci-layout", TarEntryType.File, FileMode, 0, 0), OciLayoutWriter.LayoutFile, ct).ConfigureAwait(false);
                    await tar.FinishAsync(ct).ConfigureAwait(false);
                }
            },
            cancellationToken);

    private static string BlobName(Digest digest) => $"blobs/{digest.Algorithm}/{digest.Hex}";

    /// <summary>index.json as Docker 25+ writes it: an entry per name (the full name and the tag as annotations), or one without names.</summary>
    private static byte[] TopIndex(IReadOnlyList<(IImage Image, IReadOnlyList<string> RepoTags)> images)
    {
        var entries = new List<Descriptor>();
        foreach (var (image, tags) in images)
        {
            var descriptor = new Descriptor(image.MediaType, image.Digest, image.ManifestBytes.Length);
            entries.AddRange(tags.Count == 0
                ? [descriptor]
                : tags.Select(t => descriptor with
                {
                    Annotations = new Dictionary<string, string>(StringComparer.Ordinal)
                    {
                        [ContainerdImageName] = t,
                        [AnnotationKeys.RefName] = t[(t.LastIndexOf(':') + 1)..],
                    },
                }));
        }

        return new Oci.Index(MediaTypes.OciIndex, entries).ToBytes();
    }

    private static byte[] ManifestJson(IReadOnlyList<(IImage Image, IReadOnlyList<string> RepoTags)> images) => OciJson.Write(w =>
    {
        w.WriteStartArray();
        foreach (var (image, tags) in images)
        {
            w.WriteStartObject();
            w.WriteString("Config", BlobName(image.Manifest.Config.Digest));
            w.WriteStartArray("RepoTags");
            foreach (var t in tags)
            {
                w.WriteStringValue(t);
            }

            w.WriteEndArray();
            w.WriteStartArray("Layers");
            foreach (var layer in image.Layers)
            {
                w.WriteStringValue(BlobName(layer.Descriptor.Digest));
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });
}
