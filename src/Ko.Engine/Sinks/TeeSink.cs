namespace Ko.Engine.Sinks;

/// <summary>Several sinks as one, as ko's MultiPublisher: each artifact goes to every sink, in the order given.</summary>
internal sealed class TeeSink(IReadOnlyList<IImageSink> sinks) : IImageSink
{
    /// <summary>The sinks, in the order they are written.</summary>
    public IReadOnlyList<IImageSink> Sinks { get; } = sinks;

    public async Task<SinkResult> WriteAsync(NamedArtifact artifact, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        var result = SinkResult.None;
        foreach (var sink in Sinks)
        {
            result += await sink.WriteAsync(artifact, tags, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    public async Task<IReadOnlyDictionary<string, string>> CompleteAsync(CancellationToken cancellationToken)
    {
        var references = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var sink in Sinks)
        {
            foreach (var (name, reference) in await sink.CompleteAsync(cancellationToken).ConfigureAwait(false))
            {
                references[name] = reference;
            }
        }

        return references;
    }

    public void Dispose()
    {
        foreach (var sink in Sinks)
        {
            sink.Dispose();
        }
    }
}
