namespace Ko.Engine.Oci;

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
