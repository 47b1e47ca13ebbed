namespace Ko.Engine.Sinks;

/// <summary>
/// A sink that writes every artifact at once when the run completes (an archive, a layout's index.json, a daemon
/// load): artifacts are queued in the order written, so the output does not depend on which build finished first.
/// </summary>
internal abstract class QueuingSink : IImageSink
{
    private readonly List<(NamedArtifact Artifact, IReadOnlyList<string> Tags)> _queued = [];

    /// <summary>The artifacts written so far, in order.</summary>
    protected IReadOnlyList<(NamedArtifact Artifact, IReadOnlyList<string> Tags)> Queued => _queued;

    public Task<SinkResult> WriteAsync(NamedArtifact artifact, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        ArgumentNullException.ThrowIfNull(tags);
        lock (_queued)
        {
            _queued.Add((artifact, tags));
        }

        return Task.FromResult(SinkResult.None);
    }

    public async Task<IReadOnlyDictionary<string, string>> CompleteAsync(CancellationToken cancellationToken)
    {
        if (_queued.Count == 0)
        {
            return new Dictionary<string, string>();
        }

        return await WriteAllAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes every queued artifact; returns printed references where the sink decides them.</summary>
    protected abstract Task<IReadOnlyDictionary<string, string>> WriteAllAsync(CancellationToken cancellationToken);

    /// <inheritdoc/>
    public virtual void Dispose()
    {
    }
}
