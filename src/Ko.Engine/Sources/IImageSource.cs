using Ko.Engine.Oci;
using Ko.Engine.Sbom;

namespace Ko.Engine.Sources;

/// <summary>
/// Where an image comes from: an OCI layout, an OCI or docker archive, a registry, or a base made in-process. Reading
/// gives the whole artifact as stored (an index with every child, or one image), with its root bytes exactly as
/// stored (so its digest is the stored one) and layers that are streamed, and checked against their digests, only
/// when a sink reads them. Dispose the source when no layer will be read any more.
/// </summary>
internal interface IImageSource : IDisposable, IAsyncDisposable
{
    /// <summary>The source as written (<c>oci:out:ko.local/app:latest</c>), for messages and base-name annotations.</summary>
    string Name { get; }

    /// <summary>Reads the artifact. Malformed content is a <see cref="KoException"/> (KO3014–KO3017, or a registry's codes).</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<IArtifact> ReadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The names the source stores the artifact read under (<c>name:tag</c> ref names, <c>RepoTags</c>, the registry
    /// reference), known after <see cref="ReadAsync"/>; empty when it stores none.
    /// </summary>
    IReadOnlyList<string> StoredNames => [];

    /// <summary>
    /// The SBOM artifacts the source stores beside <paramref name="artifact"/> (their subject is it or one of its
    /// images), each only when it reads back byte-identical; none for sources that store none.
    /// </summary>
    /// <param name="artifact">The artifact <see cref="ReadAsync"/> gave.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<IReadOnlyList<SbomArtifact>> ReadSbomsAsync(IArtifact artifact, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<SbomArtifact>>([]);
}
