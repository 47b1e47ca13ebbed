using Ko.Engine.Registry;
using Ko.Engine.Sbom;

namespace Ko.Engine.Sinks;

/// <summary>
/// Pushes each artifact to the registry its name points at as soon as it is written (blobs the registry lacks,
/// manifests, the index, the tags), then attaches its SBOMs (<paramref name="attachment"/>).
/// </summary>
internal sealed class RegistrySink(RegistryOptions options, SbomAttachment attachment) : IImageSink
{
    private readonly RegistryPublisher _publisher = new(options);

    public async Task<SinkResult> WriteAsync(NamedArtifact artifact, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        var pushed = await _publisher.PublishAsync(artifact, tags, cancellationToken).ConfigureAwait(false);
        var attached = artifact.Sboms.Count == 0
            ? []
            : await _publisher.AttachSbomsAsync(artifact, artifact.Sboms, attachment, cancellationToken).ConfigureAwait(false);
        // One unit for the image or index, one for each SBOM artifact attached to it.
        options.Progress?.Report(new KoProgress("push", artifact.Name, 1 + attached.Count, 1 + attached.Count));
        return new SinkResult(pushed, attached);
    }

    public Task<IReadOnlyDictionary<string, string>> CompleteAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());

    public void Dispose() => _publisher.Dispose();
}
