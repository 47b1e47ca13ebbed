using Microsoft.Extensions.Logging;

namespace Ko.Engine.Sinks;

/// <summary>Writes the artifacts as one OCI layout in a tar file (<c>--oci-archive</c>), atomically.</summary>
internal sealed class OciArchiveSink(string path, bool listSboms, ILogger logger, IProgress<KoProgress>? progress) : QueuingSink
{
    protected override async Task<IReadOnlyDictionary<string, string>> WriteAllAsync(CancellationToken cancellationToken)
    {
        var tagged = Queued.Select(q => new TaggedImage(q.Artifact, q.Tags)).ToList();
        await OciArchiveWriter.WriteAsync(path, tagged, cancellationToken, Queued.SelectMany(q => q.Artifact.Sboms).ToList(), listSboms).ConfigureAwait(false);
        progress?.Report(new KoProgress("write", path, 1, 1));
        logger.LogInformation("Wrote OCI archive {Path}", path);
        return new Dictionary<string, string>();
    }
}
