namespace Ko.Engine.Oci;

/// <summary>An image from its manifest and config bytes and its layers, checked against each other.</summary>
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

        Platform = Platform.FromConfig(configBytes, where);
    }

    public ReadOnlyMemory<byte> ManifestBytes { get; }

    public Manifest Manifest { get; }

    public ReadOnlyMemory<byte> ConfigBytes { get; }

    public IReadOnlyList<ILayer> Layers { get; }

    public Digest Digest { get; }

    public Platform Platform { get; }

    public ReadOnlyMemory<byte> RootBytes => ManifestBytes;

    public string MediaType => Manifest.MediaType;

    public IReadOnlyList<IImage> Images => [this];
}
