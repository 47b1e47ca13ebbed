using Ko.Engine.Layers;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Sinks;

/// <summary>Loads the artifacts into the local docker daemon or podman (<c>--local</c>); the printed reference is <c>name:&lt;hex&gt;</c>.</summary>
internal sealed class DaemonSink(ContentStore store, IReadOnlyDictionary<string, string?> environment, ILogger logger, IProgress<KoProgress>? progress) : QueuingSink
{
    protected override Task<IReadOnlyDictionary<string, string>> WriteAllAsync(CancellationToken cancellationToken)
    {
        // One tag list for the run: the daemon names every image with the same tags.
        var tags = Queued[0].Tags;
        return new DaemonPublisher(store, environment, logger, progress).LoadAsync(Queued.Select(q => q.Artifact).ToList(), tags, cancellationToken);
    }
}
