namespace Nuke.Ko;

/// <summary>How the kodata and binary layers are compressed (<see cref="KoImageSettings.Compression"/>).</summary>
public enum KoLayerCompression
{
    /// <summary>gzip (<c>tar+gzip</c>), the default; every registry and runtime reads it.</summary>
    Gzip,

    /// <summary>zstd (OCI <c>tar+zstd</c>); needs an OCI base image.</summary>
    Zstd,
}
