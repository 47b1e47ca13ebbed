using Ko.Engine.Oci;

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
        return await OciLayoutReader.ReadArtifactAsync(files, root, Name, cancellationToken).ConfigureAwait(false);
    });

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
