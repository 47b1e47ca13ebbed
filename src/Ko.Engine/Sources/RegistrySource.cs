using Ko.Engine.Oci;
using Ko.Engine.References;
using Ko.Engine.Registry;

namespace Ko.Engine.Sources;

/// <summary>
/// An image or index in a registry, by tag or digest (<c>[docker://][REGISTRY/]REPOSITORY[:TAG][@DIGEST]</c>). An
/// index is read with every child manifest and config; layers are <see cref="Images.RemoteLayer"/>s (streamed and
/// verified when a sink reads them, mountable by a sink on the same registry). The source owns its client.
/// </summary>
internal sealed class RegistrySource(ImageReference reference, RegistryClient client) : IImageSource
{
    private const int MaxConfigBytes = 16 << 20;

    public string Name { get; } = reference.ToString();

    public IReadOnlyList<string> StoredNames => [Reference.ToString()];

    /// <summary>The reference read.</summary>
    public ImageReference Reference { get; } = reference;

    public Task<IArtifact> ReadAsync(CancellationToken cancellationToken) => SourceErrors.GuardAsync(Name, async () =>
    {
        var repository = Reference.Repository;
        var (mediaType, bytes, digest) = await client.GetManifestAsync(repository, Reference.ManifestReference, cancellationToken).ConfigureAwait(false);
        if (!MediaTypes.IsIndex(mediaType))
        {
            return (IArtifact)await LoadImageAsync(bytes, $"{Name} ({digest})", cancellationToken).ConfigureAwait(false);
        }

        var index = Oci.Index.Parse(bytes, $"{Name} (index {digest})");
        var children = new List<IImage>(index.Manifests.Count);
        foreach (var entry in index.Manifests)
        {
            if (!MediaTypes.IsManifest(entry.MediaType))
            {
                throw new FormatException($"{Name}: the index {digest} lists {entry.Digest} of media type '{entry.MediaType}'; only image manifests can be read from an index.");
            }

            var child = await client.GetManifestAsync(repository, entry.Digest.ToString(), cancellationToken).ConfigureAwait(false);
            children.Add(await LoadImageAsync(child.Bytes, $"{Name} ({entry.Platform?.ToString() ?? "no platform"}, {entry.Digest})", cancellationToken).ConfigureAwait(false));
        }

        return new ImageIndex(bytes, children);
    });

    private async Task<IImage> LoadImageAsync(byte[] manifestBytes, string where, CancellationToken cancellationToken)
    {
        var manifest = Manifest.Parse(manifestBytes, where);
        var config = await client.ReadSmallBlobAsync(Reference.Repository, manifest.Config.Digest, manifest.Config.Size, MaxConfigBytes, cancellationToken).ConfigureAwait(false);
        var diffIds = Images.ImageConfig.ReadDiffIds(config, where);
        if (diffIds.Count != manifest.Layers.Count)
        {
            throw new FormatException($"{where}: the config lists {diffIds.Count} diff_ids but the manifest has {manifest.Layers.Count} layers.");
        }

        var layers = manifest.Layers
            .Select((d, i) => (ILayer)new Images.RemoteLayer(d, diffIds[i], client, Reference.Registry, Reference.Repository))
            .ToList();
        return new Image(manifestBytes, config, layers, where);
    }

    public void Dispose() => client.Dispose();

    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }
}
