namespace Ko.Engine.Oci;

/// <summary>An image: raw manifest and config bytes (hashed exactly as written), their parsed forms, and its layers.</summary>
public interface IImage : IArtifact
{
    /// <summary>The manifest bytes; the image digest is their SHA-256.</summary>
    ReadOnlyMemory<byte> ManifestBytes { get; }

    /// <summary>The parsed manifest.</summary>
    Manifest Manifest { get; }

    /// <summary>The config bytes, as referenced by the manifest.</summary>
    ReadOnlyMemory<byte> ConfigBytes { get; }

    /// <summary>The layers, base first, in manifest order.</summary>
    IReadOnlyList<ILayer> Layers { get; }

    /// <summary>The platform the config declares.</summary>
    Platform Platform { get; }
}
