using Ko.Engine.Util;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Sinks;

/// <summary>Writes each artifact's SBOM documents as files into a directory (<c>--sbom-dir</c>), each atomically.</summary>
internal sealed class SbomDirectorySink(string directory, ILogger logger) : QueuingSink
{
    protected override async Task<IReadOnlyDictionary<string, string>> WriteAllAsync(CancellationToken cancellationToken)
    {
        var sboms = Queued.SelectMany(q => q.Artifact.Sboms).ToList();
        foreach (var sbom in sboms)
        {
            var file = Path.Combine(directory, sbom.FileName);
            await AtomicOutput.WriteFileAsync(file, (st, ct) => st.WriteAsync(sbom.Document, ct).AsTask(), cancellationToken).ConfigureAwait(false);
        }

        logger.LogInformation("Wrote {Count} SBOM(s) to {Directory}", sboms.Count, directory);
        return new Dictionary<string, string>();
    }
}
