using Microsoft.Extensions.Logging;

namespace Ko.Engine.Sinks;

/// <summary>
/// Writes the artifacts into an OCI image layout (<c>--oci-layout-path</c>), created or added to under its lock;
/// index.json names each entry <c>name:tag</c>. SBOM blobs go in too; <paramref name="listSboms"/> lists them in index.json.
/// </summary>
internal sealed class OciLayoutSink(string path, bool listSboms, ILogger logger, IProgress<KoProgress>? progress) : QueuingSink
{
    protected override async Task<IReadOnlyDictionary<string, string>> WriteAllAsync(CancellationToken cancellationToken)
    {
        var tagged = Queued.Select(q => new TaggedImage(q.Artifact, q.Tags)).ToList();
        await OciLayoutWriter.WriteAsync(path, tagged, cancellationToken, Queued.SelectMany(q => q.Artifact.Sboms).ToList(), listSboms).ConfigureAwait(false);
        progress?.Report(new KoProgress("write", path, 1, 1));
        logger.LogInformation("Wrote OCI layout {Path}", path);
        return new Dictionary<string, string>();
    }
}
