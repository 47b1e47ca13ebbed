namespace Ko.Engine.Oci;

/// <summary>An image index: its raw bytes and its child images, in index order.</summary>
public interface IImageIndex : IArtifact
{
    /// <summary>The index bytes; the index digest is their SHA-256.</summary>
    ReadOnlyMemory<byte> IndexBytes { get; }

    /// <summary>The parsed index.</summary>
    Index Index { get; }

    /// <summary>The child images, in the order of <see cref="Oci.Index.Manifests"/>.</summary>
    IReadOnlyList<IImage> Children { get; }
}
