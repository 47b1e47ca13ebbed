using Ko.Engine.Oci;

namespace Ko.Engine;

/// <summary>One built import path: its printed reference, digest and platforms.</summary>
/// <param name="ImportPath">The import path as Go reports it.</param>
/// <param name="Name">The image name without tag or digest.</param>
/// <param name="Reference">The reference as ko prints it (<c>name@sha256:…</c> or a tag form).</param>
/// <param name="Digest">The digest of the image or index.</param>
/// <param name="MediaType">The media type of the image manifest or index.</param>
/// <param name="Platforms">The platforms built.</param>
/// <param name="Tags">The tags applied.</param>
public sealed record KoImageResult(string ImportPath, string Name, string Reference, Digest Digest, string MediaType, IReadOnlyList<Platform> Platforms, IReadOnlyList<string> Tags)
{
    /// <summary>Each platform's image digest (for an index, its children; else the image itself). Empty when unknown.</summary>
    public IReadOnlyList<Records.KoPlatformImage> PlatformImages { get; init; } = [];

    /// <summary>The references of the SBOMs pushed with the image: none without a push or with no SBOM.</summary>
    public IReadOnlyList<string> SbomReferences { get; init; } = [];

    /// <summary>The base the image was built on, as its annotations name it; null when they name none.</summary>
    public Records.KoBaseImage? Base { get; init; }
}

/// <summary>Counts that show what a build did and what it could skip.</summary>
/// <param name="GoBuilds">How many <c>go build</c> invocations ran.</param>
/// <param name="LayersWritten">Layers tarred, compressed and hashed in this run.</param>
/// <param name="LayersReused">Layers taken from the cache without tar, gzip or hashing.</param>
/// <param name="BlobsUploaded">Blobs (layers and configs) uploaded to a registry; 0 without a push.</param>
/// <param name="BlobsSkipped">Blobs a registry already had, so not uploaded; 0 without a push.</param>
/// <param name="BlobsMounted">Base-image blobs a registry mounted from another of its repositories, so not uploaded; 0 without a push.</param>
public sealed record KoBuildStatistics(int GoBuilds, int LayersWritten, int LayersReused, int BlobsUploaded, int BlobsSkipped, int BlobsMounted);

/// <summary>The outcome of <see cref="KoEngine.BuildAsync"/>.</summary>
/// <param name="Images">One entry per import path, in the order given.</param>
/// <param name="Statistics">What the build did.</param>
public sealed record KoBuildResult(IReadOnlyList<KoImageResult> Images, KoBuildStatistics Statistics);

/// <summary>What is happening, for progress displays.</summary>
/// <param name="Stage">The stage: <c>build</c>, <c>layer</c>, <c>write</c>, <c>upload</c> (bytes of one blob), <c>push</c> (units: the image or index plus each SBOM artifact attached to it), <c>load</c>.</param>
/// <param name="Subject">What the stage works on (import path and platform, output path).</param>
/// <param name="Completed">Units done.</param>
/// <param name="Total">Units in all, when known.</param>
public sealed record KoProgress(string Stage, string Subject, long Completed, long? Total);
