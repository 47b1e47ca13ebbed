using Ko.Engine.Layers;
using Ko.Engine.Oci;

namespace Ko.Engine.Images;

/// <summary>An image: raw manifest and config bytes (hashed exactly as written), their parsed forms, and its layers.</summary>
public interface IImage
{
    /// <summary>The manifest bytes; the image digest is their SHA-256.</summary>
    ReadOnlyMemory<byte> ManifestBytes { get; }

    /// <summary>The parsed manifest.</summary>
    Manifest Manifest { get; }

    /// <summary>The config bytes, as referenced by the manifest.</summary>
    ReadOnlyMemory<byte> ConfigBytes { get; }

    /// <summary>The layers, base first, in manifest order.</summary>
    IReadOnlyList<ILayer> Layers { get; }

    /// <summary>The digest of <see cref="ManifestBytes"/>.</summary>
    Digest Digest { get; }

    /// <summary>The platform the config declares.</summary>
    Platform Platform { get; }
}

/// <summary>An image index: its raw bytes and its child images, in index order.</summary>
public interface IImageIndex
{
    /// <summary>The index bytes; the index digest is their SHA-256.</summary>
    ReadOnlyMemory<byte> IndexBytes { get; }

    /// <summary>The parsed index.</summary>
    Oci.Index Index { get; }

    /// <summary>The child images, in the order of <see cref="Oci.Index.Manifests"/>.</summary>
    IReadOnlyList<IImage> Children { get; }

    /// <summary>The digest of <see cref="IndexBytes"/>.</summary>
    Digest Digest { get; }
}

internal sealed class Image : IImage
{
    public Image(byte[] manifestBytes, byte[] configBytes, IReadOnlyList<ILayer> layers, string where)
    {
        ManifestBytes = manifestBytes;
        ConfigBytes = configBytes;
        Manifest = Manifest.Parse(manifestBytes, where);
        Layers = layers;
        Digest = Digest.Sha256(manifestBytes);
        if (Manifest.Layers.Count != layers.Count)
        {
            throw new FormatException($"{where}: the manifest lists {Manifest.Layers.Count} layers but {layers.Count} were given.");
        }

        var configDigest = Digest.Sha256(configBytes);
        if (configDigest != Manifest.Config.Digest)
        {
            throw new FormatException($"{where}: the config's bytes hash to {configDigest}, not {Manifest.Config.Digest}.");
        }

        Platform = ImageConfig.ReadPlatform(configBytes, where);
    }

    public ReadOnlyMemory<byte> ManifestBytes { get; }

    public Manifest Manifest { get; }

    public ReadOnlyMemory<byte> ConfigBytes { get; }

    public IReadOnlyList<ILayer> Layers { get; }

    public Digest Digest { get; }

    public Platform Platform { get; }
}

internal sealed class ImageIndex : IImageIndex
{
    public ImageIndex(byte[] indexBytes, IReadOnlyList<IImage> children)
    {
        IndexBytes = indexBytes;
        Index = Oci.Index.Parse(indexBytes, "index");
        Children = children;
        Digest = Digest.Sha256(indexBytes);
    }

    public ReadOnlyMemory<byte> IndexBytes { get; }

    public Oci.Index Index { get; }

    public IReadOnlyList<IImage> Children { get; }

    public Digest Digest { get; }
}
