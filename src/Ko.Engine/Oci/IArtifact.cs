namespace Ko.Engine.Oci;

/// <summary>
/// What a build produces and a sink writes: one image or an index over images. The root bytes are hashed exactly as
/// written; the images are the artifact itself or the index's children.
/// </summary>
public interface IArtifact
{
    /// <summary>The manifest or index bytes; the digest is their SHA-256.</summary>
    ReadOnlyMemory<byte> RootBytes { get; }

    /// <summary>The media type of the manifest or index.</summary>
    string MediaType { get; }

    /// <summary>The digest of <see cref="RootBytes"/>.</summary>
    Digest Digest { get; }

    /// <summary>The images: this image, or the index's children in index order.</summary>
    IReadOnlyList<IImage> Images { get; }
}
