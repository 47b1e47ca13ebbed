namespace Ko.Engine.Oci;

/// <summary>The media types of OCI and Docker image manifests, indexes, configs and layers.</summary>
public static class MediaTypes
{
    /// <summary>OCI image manifest.</summary>
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    /// <summary>OCI image index.</summary>
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    /// <summary>OCI image config.</summary>
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    /// <summary>OCI gzip layer.</summary>
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// <summary>OCI uncompressed layer.</summary>
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar";
    /// <summary>OCI zstd layer.</summary>
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    /// <summary>Docker schema 2 manifest.</summary>
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    /// <summary>Docker manifest list.</summary>
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// <summary>Docker image config.</summary>
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    /// <summary>Docker gzip layer.</summary>
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    /// <summary>True for an image manifest media type (OCI or Docker).</summary>
    /// <param name="mediaType">The media type.</param>
    public static bool IsManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;

    /// <summary>True for an index media type (OCI index or Docker manifest list).</summary>
    /// <param name="mediaType">The media type.</param>
    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;

    /// <summary>True when the media type belongs to the Docker family.</summary>
    /// <param name="mediaType">The media type.</param>
    public static bool IsDocker(string? mediaType) => mediaType is not null && mediaType.StartsWith("application/vnd.docker.", StringComparison.Ordinal);
}

/// <summary>Annotation keys the engine writes.</summary>
public static class AnnotationKeys
{
    /// <summary>The name of the base image.</summary>
    public const string BaseName = "org.opencontainers.image.base.name";
    /// <summary>The digest of the base image.</summary>
    public const string BaseDigest = "org.opencontainers.image.base.digest";
    /// <summary>The reference name of a manifest in an OCI layout's <c>index.json</c>.</summary>
    public const string RefName = "org.opencontainers.image.ref.name";
}
