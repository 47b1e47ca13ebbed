using System.Security.Cryptography;
using Ko.Engine.Oci;

namespace Ko.Engine.Sources;

/// <summary>
/// A docker archive (<c>docker-archive:FILE[:NAME:TAG]</c>, as <c>docker save</c>, <c>podman save</c> and
/// <c>dotnet ko build --tarball</c> write it): one image, picked by a name in its <c>RepoTags</c> when the archive
/// holds several. When the archive also carries the OCI layout parts (<c>oci-layout</c>, <c>index.json</c>, the
/// manifest under <c>blobs/</c>, as Docker 25+ and this tool write), the image is the stored manifest, so its digest is
/// the one it was built with; otherwise the image is rebuilt from <c>manifest.json</c> as a Docker schema 2 manifest
/// (each layer file is hashed once to describe it; gzip layers keep their bytes, others are uncompressed layers).
/// </summary>
internal sealed class DockerArchiveSource(string name, string path, string? refName) : IImageSource
{
    /// <summary>The media type of an uncompressed Docker layer (containerd's name for it).</summary>
    internal const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar";

    public string Name { get; } = name;

    public IReadOnlyList<string> StoredNames { get; private set; } = [];

    public Task<IArtifact> ReadAsync(CancellationToken cancellationToken) => SourceErrors.GuardAsync(Name, async () =>
    {
        var files = new TarFiles(await TarIndex.ReadAsync(path, cancellationToken).ConfigureAwait(false), $"the docker archive {path}");
        if (!files.Exists("manifest.json"))
        {
            throw new KoException(KoErrorCodes.SourceNotFound, $"image source '{Name}': {path} is not a docker archive (it has no manifest.json). Write one with `docker save` or `dotnet ko build --tarball`.");
        }

        var entries = DockerArchiveManifest.Parse(await files.ReadAsync("manifest.json", OciLayoutReader.MaxIndexBytes, cancellationToken).ConfigureAwait(false), $"manifest.json of {files.Description}");
        var entry = Choose(entries);
        StoredNames = entry.RepoTags;
        var config = await files.ReadAsync(Normalise(entry.Config), OciLayoutReader.MaxDocumentBytes, cancellationToken).ConfigureAwait(false);
        var stored = await StoredManifestAsync(files, Digest.Sha256(config), entry.Layers.Count, cancellationToken).ConfigureAwait(false);
        if (stored is not null)
        {
            return (IArtifact)await OciLayoutReader.LoadImageAsync(files, stored, Name, cancellationToken).ConfigureAwait(false);
        }

        return await RebuildAsync(files, entry, config, cancellationToken).ConfigureAwait(false);
    });

    private DockerArchiveManifest Choose(IReadOnlyList<DockerArchiveManifest> entries)
    {
        var names = string.Join(", ", entries.SelectMany(e => e.RepoTags).Take(20).DefaultIfEmpty("none"));
        var candidates = refName is null ? entries : entries.Where(e => e.RepoTags.Contains(refName, StringComparer.Ordinal)).ToList();
        return candidates.Count switch
        {
            1 => candidates[0],
            0 when refName is null => throw new KoException(KoErrorCodes.SourceNotFound, $"image source '{Name}': the archive's manifest.json lists no image."),
            0 => throw new KoException(KoErrorCodes.SourceNotFound, $"image source '{Name}': no image in the archive is named '{refName}' (names there: {names})."),
            _ => throw new KoException(KoErrorCodes.SourceNotFound, $"image source '{Name}': the archive holds {candidates.Count} images; name one with docker-archive:{path}:NAME:TAG (names there: {names})."),
        };
    }

    private string Normalise(string name) => TarIndex.Normalise(name, path);

    /// <summary>The manifest the archive's OCI parts store for the image whose config hashes to <paramref name="config"/>, or null.</summary>
    private static async Task<byte[]?> StoredManifestAsync(TarFiles files, Digest config, int layerCount, CancellationToken cancellationToken)
    {
        if (!files.Exists("oci-layout") || !files.Exists("index.json"))
        {
            return null;
        }

        var top = await OciLayoutReader.ReadTopIndexAsync(files, cancellationToken).ConfigureAwait(false);
        var entries = new List<Descriptor>();
        foreach (var entry in top.Manifests.DistinctBy(m => m.Digest).Take(1000))
        {
            if (MediaTypes.IsManifest(entry.MediaType))
            {
                entries.Add(entry);
            }
            else if (MediaTypes.IsIndex(entry.MediaType))
            {
                // Docker with the containerd image store names an index per image: its children are the manifests.
                var index = Oci.Index.Parse(await OciLayoutReader.ReadBlobAsync(files, entry, cancellationToken).ConfigureAwait(false), $"{files.Description} ({entry.Digest})");
                entries.AddRange(index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType) && files.Exists(LayoutFiles.BlobPath(m.Digest))));
            }
        }

        foreach (var entry in entries.DistinctBy(m => m.Digest).Take(1000))
        {
            var bytes = await OciLayoutReader.ReadBlobAsync(files, entry, cancellationToken).ConfigureAwait(false);
            var manifest = Manifest.Parse(bytes, $"{files.Description} ({entry.Digest})");
            if (manifest.Config.Digest == config && manifest.Layers.Count == layerCount)
            {
                return bytes;
            }
        }

        return null;
    }

    private async Task<IArtifact> RebuildAsync(TarFiles files, DockerArchiveManifest entry, byte[] config, CancellationToken cancellationToken)
    {
        var diffIds = Images.ImageConfig.ReadDiffIds(config, $"{entry.Config} in {files.Description}");
        if (diffIds.Count != entry.Layers.Count)
        {
            throw new FormatException($"{files.Description}: the config {entry.Config} lists {diffIds.Count} diff_ids but manifest.json lists {entry.Layers.Count} layers.");
        }

        var layers = new List<ILayer>();
        for (var i = 0; i < entry.Layers.Count; i++)
        {
            var layerPath = Normalise(entry.Layers[i]);
            var (digest, size, gzip) = await DescribeAsync(files, layerPath, cancellationToken).ConfigureAwait(false);
            if (!gzip && digest != diffIds[i])
            {
                throw new FormatException($"{files.Description}: the layer {layerPath} hashes to {digest}, but the config's diff_id for it is {diffIds[i]}.");
            }

            var descriptor = new Descriptor(gzip ? MediaTypes.DockerLayerGzip : DockerLayer, digest, size);
            layers.Add(new SourceLayer(descriptor, diffIds[i], files, layerPath));
        }

        var manifest = new Manifest(MediaTypes.DockerManifest, new Descriptor(MediaTypes.DockerConfig, Digest.Sha256(config), config.Length), layers.Select(l => l.Descriptor).ToList());
        return new Image(manifest.ToBytes(), config, layers, Name);
    }

    /// <summary>Hashes a layer file as it streams (never held in memory) and tells whether it is gzip.</summary>
    private static async Task<(Digest Digest, long Size, bool Gzip)> DescribeAsync(TarFiles files, string layerPath, CancellationToken cancellationToken)
    {
        var size = files.SizeOf(layerPath);
        await using var stream = await files.OpenAsync(layerPath, cancellationToken).ConfigureAwait(false);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        var head = new byte[2];
        long read = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (read < 2)
            {
                buffer.AsSpan(0, (int)Math.Min(n, 2 - read)).CopyTo(head.AsSpan((int)read));
            }

            hash.AppendData(buffer, 0, n);
            read += n;
        }

        if (read != size)
        {
            throw new FormatException($"{files.Description}: the layer {layerPath} ended after {read} of its {size} bytes; the archive was changed while it was read.");
        }

        return (Digest.FromSha256Hash(hash.GetHashAndReset()), size, read >= 2 && head[0] == 0x1f && head[1] == 0x8b);
    }

    public void Dispose()
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
