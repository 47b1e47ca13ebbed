using Ko.Engine.Oci;
using Ko.Engine.Sbom;

namespace Ko.Engine.Sinks;

/// <summary>
/// What a sink writes: an artifact (one image or an index over platform images) under its image name, with the
/// artifacts that travel with it (SBOMs) and, for a build, the import path it was made from.
/// </summary>
internal sealed class NamedArtifact
{
    public NamedArtifact(string importPath, string name, IArtifact artifact, IReadOnlyList<SbomArtifact>? sboms = null)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        ImportPath = importPath;
        Name = name;
        Artifact = artifact;
        Sboms = sboms ?? [];
    }

    /// <summary>The import path the artifact was built from; for a published artifact, its source.</summary>
    public string ImportPath { get; }

    /// <summary>The image name without tag or digest, e.g. <c>ko.local/hello-5f1e…</c>.</summary>
    public string Name { get; }

    /// <summary>The image or index.</summary>
    public IArtifact Artifact { get; }

    /// <summary>The SBOM artifacts that describe the artifact and its images; empty without SBOMs.</summary>
    public IReadOnlyList<SbomArtifact> Sboms { get; }

    /// <summary>The single image, or null for an index.</summary>
    public IImage? Image => Artifact as IImage;

    /// <summary>The index, or null for a single image.</summary>
    public IImageIndex? Index => Artifact as IImageIndex;

    public Digest Digest => Artifact.Digest;

    public string MediaType => Artifact.MediaType;

    public ReadOnlyMemory<byte> RootBytes => Artifact.RootBytes;

    public IReadOnlyList<IImage> Images => Artifact.Images;

    public Descriptor RootDescriptor => new(MediaType, Digest, RootBytes.Length);

    /// <summary>The same artifact with its SBOMs.</summary>
    public NamedArtifact WithSboms(IReadOnlyList<SbomArtifact> sboms) => new(ImportPath, Name, Artifact, sboms);
}
