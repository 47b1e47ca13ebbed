using Ko.Engine.Oci;

namespace Ko.Engine.Sources;

/// <summary>
/// Reads an OCI image layout from its files (a directory or an archive): the top-level <c>index.json</c>, the entry a
/// reference name picks, manifests and configs (bounded, hash-checked) and images whose layers stream from the files.
/// Shared by the <c>oci:</c> base image and the <c>oci:</c>, <c>oci-archive:</c> and <c>docker-archive:</c> sources.
/// Malformed content is a <see cref="FormatException"/>; the caller gives it its error code.
/// </summary>
internal static class OciLayoutReader
{
    /// <summary>The largest index.json read (an index of tens of thousands of entries).</summary>
    internal const long MaxIndexBytes = 64L << 20;

    /// <summary>The largest manifest, index or config read.</summary>
    internal const long MaxDocumentBytes = 16 << 20;

    /// <summary>The top-level index: <c>index.json</c>.</summary>
    public static async Task<Oci.Index> ReadTopIndexAsync(LayoutFiles files, CancellationToken cancellationToken)
    {
        var bytes = await files.ReadAsync("index.json", MaxIndexBytes, cancellationToken).ConfigureAwait(false);
        return Oci.Index.Parse(bytes, $"index.json of {files.Description}");
    }

    /// <summary>The reference names in an index (<c>org.opencontainers.image.ref.name</c>), for messages.</summary>
    public static string NamesIn(Oci.Index top)
    {
        var names = top.Manifests.Select(m => m.Annotations?.GetValueOrDefault(AnnotationKeys.RefName)).OfType<string>().Take(20).ToList();
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }

    /// <summary>
    /// The entries of <paramref name="top"/> that <paramref name="refName"/> names (every entry when it is null): as
    /// skopeo, the one whose ref name is exactly it.
    /// </summary>
    public static IReadOnlyList<Descriptor> Candidates(Oci.Index top, string? refName) => refName is null
        ? top.Manifests.Where(m => !Signing.LayoutSignatures.IsSignatureEntry(m)).ToList() // cosign's signatures beside the image are not a candidate
        : top.Manifests.Where(m => m.Annotations is not null && m.Annotations.TryGetValue(AnnotationKeys.RefName, out var r) && r == refName).ToList();

    /// <summary>A manifest, index or config by descriptor: at most the descriptor's size and 16 MiB, and its bytes must hash to its digest.</summary>
    public static async Task<byte[]> ReadBlobAsync(LayoutFiles files, Descriptor descriptor, CancellationToken cancellationToken)
    {
        if (descriptor.Size > MaxDocumentBytes)
        {
            throw new FormatException($"blob {descriptor.Digest} in {files.Description} claims {descriptor.Size} bytes, too large for a manifest or config.");
        }

        var path = LayoutFiles.BlobPath(descriptor.Digest);
        // Read no more than the descriptor names: the file itself is not trusted (it may be a FIFO, a device, huge).
        var bytes = await files.ReadAsync(path, descriptor.Size, cancellationToken).ConfigureAwait(false);
        if (bytes.Length != descriptor.Size || Digest.Sha256(bytes) != descriptor.Digest)
        {
            throw new FormatException($"blob {descriptor.Digest} in {files.Description} does not match its digest.");
        }

        return bytes;
    }

    /// <summary>True when a root entry (and its bytes) is an index rather than an image manifest.</summary>
    public static bool IsIndex(Descriptor entry, ReadOnlySpan<byte> bytes) =>
        MediaTypes.IsIndex(entry.MediaType) || (!MediaTypes.IsManifest(entry.MediaType) && Oci.Index.LooksLikeIndex(bytes));

    /// <summary>
    /// An image from its manifest bytes: the config read and checked, each layer's blob present with the manifest's
    /// size and a regular file, streamed (and verified) only when a sink reads it.
    /// </summary>
    public static async Task<IImage> LoadImageAsync(LayoutFiles files, byte[] manifestBytes, string where, CancellationToken cancellationToken, string corruptCode = KoErrorCodes.SourceCorrupt)
    {
        var manifest = Manifest.Parse(manifestBytes, where);
        var config = await ReadBlobAsync(files, manifest.Config, cancellationToken).ConfigureAwait(false);
        var diffIds = Images.ImageConfig.ReadDiffIds(config, where);
        if (diffIds.Count != manifest.Layers.Count)
        {
            throw new FormatException($"{where}: the config lists {diffIds.Count} diff_ids but the manifest has {manifest.Layers.Count} layers.");
        }

        var layers = new List<ILayer>();
        for (var i = 0; i < manifest.Layers.Count; i++)
        {
            var d = manifest.Layers[i];
            var path = LayoutFiles.BlobPath(d.Digest);
            long size;
            try
            {
                size = files.SizeOf(path);
            }
            catch (FormatException ex)
            {
                throw new FormatException($"{where}: layer blob {d.Digest}: {ex.Message}", ex);
            }

            if (size != d.Size)
            {
                throw new FormatException($"{where}: layer blob {d.Digest} is {size} bytes, the manifest says {d.Size}.");
            }

            layers.Add(new SourceLayer(d, diffIds[i], files, path, corruptCode));
        }

        return new Image(manifestBytes, config, layers, where);
    }

    /// <summary>
    /// The whole artifact an entry names: one image, or an index with every child image (a child that is itself an
    /// index, or not an image manifest, is refused: an artifact's children are images).
    /// </summary>
    public static async Task<IArtifact> ReadArtifactAsync(LayoutFiles files, Descriptor root, string where, CancellationToken cancellationToken)
    {
        var rootBytes = await ReadBlobAsync(files, root, cancellationToken).ConfigureAwait(false);
        if (!IsIndex(root, rootBytes))
        {
            return await LoadImageAsync(files, rootBytes, $"{where} ({root.Digest})", cancellationToken).ConfigureAwait(false);
        }

        var index = Oci.Index.Parse(rootBytes, $"{where} (index {root.Digest})");
        var children = new List<IImage>(index.Manifests.Count);
        foreach (var entry in index.Manifests)
        {
            if (!MediaTypes.IsManifest(entry.MediaType))
            {
                throw new FormatException($"{where}: the index {root.Digest} lists {entry.Digest} of media type '{entry.MediaType}'; only image manifests can be read from an index.");
            }

            var bytes = await ReadBlobAsync(files, entry, cancellationToken).ConfigureAwait(false);
            children.Add(await LoadImageAsync(files, bytes, $"{where} ({entry.Platform?.ToString() ?? "no platform"}, {entry.Digest})", cancellationToken).ConfigureAwait(false));
        }

        return new ImageIndex(rootBytes, children);
    }
}
