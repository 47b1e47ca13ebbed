using Ko.Engine.Oci;
using Ko.Engine.Sbom;

namespace Ko.Engine.Sources;

/// <summary>
/// An OCI image layout, as a directory (<c>oci:DIR[:REF]</c>) or a tar of one (<c>oci-archive:FILE[:REF]</c>). REF
/// picks the <c>index.json</c> entry whose <c>org.opencontainers.image.ref.name</c> is exactly REF (as skopeo);
/// without REF the layout must hold one image or index (SBOM artifacts listed beside it, and several names of the
/// same digest, do not count).
/// </summary>
internal sealed class OciLayoutSource : IImageSource
{
    private readonly Func<CancellationToken, Task<LayoutFiles>> _files;
    private readonly string? _refName;
    private readonly string _withRef;
    private LayoutFiles? _read;
    private Oci.Index? _top;

    /// <param name="name">The spec as written.</param>
    /// <param name="files">Opens the layout's files (indexes an archive).</param>
    /// <param name="refName">The ref name asked for, or null.</param>
    /// <param name="withRef">How to name one entry, for messages: <c>oci:DIR:REF</c>.</param>
    public OciLayoutSource(string name, Func<CancellationToken, Task<LayoutFiles>> files, string? refName, string withRef)
    {
        Name = name;
        _files = files;
        _refName = refName;
        _withRef = withRef;
    }

    public string Name { get; }

    public Task<IArtifact> ReadAsync(CancellationToken cancellationToken) => SourceErrors.GuardAsync(Name, async () =>
    {
        var files = await _files(cancellationToken).ConfigureAwait(false);
        if (!files.Exists("oci-layout") || !files.Exists("index.json"))
        {
            throw new KoException(KoErrorCodes.SourceNotFound, $"image source '{Name}': {files.Description} is not an OCI image layout (it needs an 'oci-layout' file and an 'index.json').");
        }

        var top = await OciLayoutReader.ReadTopIndexAsync(files, cancellationToken).ConfigureAwait(false);
        var root = Choose(top, files);
        var artifact = await OciLayoutReader.ReadArtifactAsync(files, root, Name, cancellationToken).ConfigureAwait(false);
        (_read, _top) = (files, top);
        StoredNames = top.Manifests
            .Where(m => m.Digest == root.Digest)
            .Select(m => m.Annotations?.GetValueOrDefault(AnnotationKeys.RefName))
            .OfType<string>()
            .ToList();
        return artifact;
    });

    public IReadOnlyList<string> StoredNames { get; private set; } = [];

    public Task<IReadOnlyList<SbomArtifact>> ReadSbomsAsync(IArtifact artifact, CancellationToken cancellationToken) =>
        SourceErrors.GuardAsync(Name, () => ReadListedSbomsAsync(artifact, cancellationToken));

    private async Task<IReadOnlyList<SbomArtifact>> ReadListedSbomsAsync(IArtifact artifact, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        if (_read is null || _top is null)
        {
            return [];
        }

        var subjects = artifact.Images.Select(i => i.Digest).Append(artifact.Digest).ToHashSet();
        var result = new List<SbomArtifact>();
        foreach (var entry in _top.Manifests.Where(m => m.ArtifactType is SbomDocuments.SpdxMediaType or SbomDocuments.CycloneDxMediaType).DistinctBy(m => m.Digest))
        {
            if (await ReadSbomAsync(entry, subjects, cancellationToken).ConfigureAwait(false) is { } sbom)
            {
                result.Add(sbom);
            }
        }

        return result;
    }

    // One listed SBOM artifact, when its subject is one of the artifact's and it reads back byte-identical.
    private async Task<SbomArtifact?> ReadSbomAsync(Descriptor entry, IReadOnlySet<Digest> subjects, CancellationToken cancellationToken)
    {
        var bytes = await OciLayoutReader.ReadBlobAsync(_read!, entry, cancellationToken).ConfigureAwait(false);
        var manifest = Manifest.Parse(bytes, $"{Name}: SBOM {entry.Digest}");
        if (manifest.Subject is not { } subject || !subjects.Contains(subject.Digest) || manifest.Layers.Count != 1)
        {
            return null;
        }

        var document = await OciLayoutReader.ReadBlobAsync(_read!, manifest.Layers[0], cancellationToken).ConfigureAwait(false);
        return SbomArtifact.TryRead(bytes, document, Name);
    }

    private Descriptor Choose(Oci.Index top, LayoutFiles files)
    {
        var candidates = OciLayoutReader.Candidates(top, _refName);
        if (_refName is null)
        {
            candidates = candidates.Where(c => c.ArtifactType is null).DistinctBy(c => c.Digest).ToList();
        }

        if (candidates.Count == 0)
        {
            var what = _refName is null ? "holds no image" : $"has no entry named '{_refName}'";
            throw new KoException(KoErrorCodes.SourceNotFound, $"image source '{Name}': the index.json of {files.Description} {what} (names there: {OciLayoutReader.NamesIn(top)}).");
        }

        if (candidates.Count > 1 && candidates.Select(c => c.Digest).Distinct().Count() > 1)
        {
            throw new KoException(KoErrorCodes.SourceNotFound, $"image source '{Name}': {files.Description} holds {candidates.Count} images; name one with {_withRef} (names there: {OciLayoutReader.NamesIn(top)}).");
        }

        return candidates[0];
    }

    public void Dispose()
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
