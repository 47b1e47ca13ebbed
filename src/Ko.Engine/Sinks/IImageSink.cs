namespace Ko.Engine.Sinks;

/// <summary>
/// Where artifacts go: a registry, an OCI layout, an OCI archive, a docker archive, a local daemon, a directory of
/// SBOM files, or several at once (<see cref="TeeSink"/>). A build calls <see cref="WriteAsync"/> for each import
/// path as soon as its artifact is ready (a registry pushes it then, overlapping the builds still running), then
/// <see cref="CompleteAsync"/> once; sinks that write one file for every artifact (archives, a layout's index.json,
/// a daemon load) write it there, atomically, in the order the artifacts were given.
/// </summary>
internal interface IImageSink : IDisposable
{
    /// <summary>Writes (or queues, for the sinks that write everything at once) one artifact with its tags.</summary>
    /// <param name="artifact">The artifact, its name and the SBOMs that travel with it.</param>
    /// <param name="tags">The tags to give it; the first names it where a sink holds only one name.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    Task<SinkResult> WriteAsync(NamedArtifact artifact, IReadOnlyList<string> tags, CancellationToken cancellationToken);

    /// <summary>Finishes the outputs; returns the printed reference per image name where the sink decides it (a daemon).</summary>
    /// <param name="cancellationToken">Cancels the write; nothing half-written is left.</param>
    Task<IReadOnlyDictionary<string, string>> CompleteAsync(CancellationToken cancellationToken);
}
