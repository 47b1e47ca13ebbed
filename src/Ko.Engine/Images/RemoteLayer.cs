using Ko.Engine.Layers;
using Ko.Engine.Oci;
using Ko.Engine.Registry;

namespace Ko.Engine.Images;

/// <summary>
/// A layer that lives in a registry: its descriptor and diffID (from the manifest and config) and where it is
/// (<see cref="Registry"/> and <see cref="Repository"/>), so a publisher to the same registry can mount it.
/// Nothing is downloaded until a sink opens it, and then the bytes are streamed and verified against the digest.
/// </summary>
internal sealed class RemoteLayer(Descriptor descriptor, Digest diffId, RegistryClient client, string registry, string repository) : ILayer
{
    public Descriptor Descriptor { get; } = descriptor;

    public Digest DiffId { get; } = diffId;

    /// <summary>The registry the layer is in, as written in references (<c>docker.io</c> for Docker Hub).</summary>
    public string Registry { get; } = registry;

    /// <summary>The repository the layer is in, e.g. <c>library/alpine</c>.</summary>
    public string Repository { get; } = repository;

    public async ValueTask<Stream> OpenCompressedAsync(CancellationToken cancellationToken) =>
        await client.GetBlobAsync(Repository, Descriptor.Digest, Descriptor.Size, cancellationToken).ConfigureAwait(false);
}
