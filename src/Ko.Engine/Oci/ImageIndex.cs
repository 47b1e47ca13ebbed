namespace Ko.Engine.Oci;

/// <summary>An index from its bytes and its child images.</summary>
internal sealed class ImageIndex : IImageIndex
{
    public ImageIndex(byte[] indexBytes, IReadOnlyList<IImage> children)
    {
        IndexBytes = indexBytes;
        Index = Index.Parse(indexBytes, "index");
        Children = children;
        Digest = Digest.Sha256(indexBytes);
    }

    public ReadOnlyMemory<byte> IndexBytes { get; }

    public Index Index { get; }

    public IReadOnlyList<IImage> Children { get; }

    public Digest Digest { get; }

    public ReadOnlyMemory<byte> RootBytes => IndexBytes;

    public string MediaType => Index.MediaType;

    public IReadOnlyList<IImage> Images => Children;
}
