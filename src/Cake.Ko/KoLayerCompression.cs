namespace Cake.Ko;

/// <summary>How the kodata and binary layers are compressed (<see cref="KoBuildSettings.Compression"/>); a Cake script needs no engine namespace for it.</summary>
public enum KoLayerCompression
{
    /// <summary>gzip (<c>tar+gzip</c>), the default; every registry and runtime reads it.</summary>
    Gzip,

    /// <summary>zstd (OCI <c>tar+zstd</c>); needs an OCI base image.</summary>
    Zstd,
}
