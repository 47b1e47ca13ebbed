using Ko.Engine.Oci;

namespace Ko.Engine.Layers;

/// <summary>
/// An image layer: its descriptor (compressed digest, size, media type), the digest of its uncompressed tar
/// (the diffID) and a way to stream its compressed bytes. Content-store blobs, blobs in an OCI layout and
/// generated layers are all layers.
/// </summary>
public interface ILayer
{
    /// <summary>The descriptor of the compressed blob.</summary>
    Descriptor Descriptor { get; }

    /// <summary>The digest of the uncompressed tar.</summary>
    Digest DiffId { get; }

    /// <summary>Opens the compressed bytes for reading. The caller disposes the stream.</summary>
    /// <param name="cancellationToken">Cancels the open.</param>
    ValueTask<Stream> OpenCompressedAsync(CancellationToken cancellationToken);
}

/// <summary>A layer whose compressed bytes are a file on disk (content store or OCI layout blob).</summary>
internal sealed class FileLayer(Descriptor descriptor, Digest diffId, string path) : ILayer
{
    public Descriptor Descriptor { get; } = descriptor;

    public Digest DiffId { get; } = diffId;

    public string Path { get; } = path;

    public ValueTask<Stream> OpenCompressedAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Stream stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return ValueTask.FromResult(stream);
    }
}
