namespace Ko.Engine.Layers;

/// <summary>How the layers the engine makes are compressed.</summary>
public enum LayerCompression
{
    /// <summary>gzip (<c>tar+gzip</c>), which every registry and runtime reads: the default, as in ko.</summary>
    Gzip,

    /// <summary>zstd (OCI <c>application/vnd.oci.image.layer.v1.tar+zstd</c>): smaller and faster to unpack; podman,
    /// containerd 1.5+ and CRI-O read it, Docker 23+ with the containerd image store.</summary>
    Zstd,
}
