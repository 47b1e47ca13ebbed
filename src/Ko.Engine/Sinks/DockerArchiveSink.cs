using Ko.Engine.Oci;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Sinks;

/// <summary>
/// Writes a docker-archive (<c>--tarball</c>), atomically. It holds one platform per name: of an index, the build
/// machine's image (else the first), with a warning.
/// </summary>
internal sealed class DockerArchiveSink(string path, ILogger logger, IProgress<KoProgress>? progress) : QueuingSink
{
    protected override async Task<IReadOnlyDictionary<string, string>> WriteAllAsync(CancellationToken cancellationToken)
    {
        var entries = new List<(IImage, IReadOnlyList<string>)>();
        foreach (var (artifact, tags) in Queued)
        {
            var image = HostImage(artifact);
            if (artifact.Index is not null)
            {
                logger.LogWarning("A docker-archive holds one platform: {Tarball} gets the {Platform} image of {ImportPath}", path, image.Platform, artifact.ImportPath);
            }

            entries.Add((image, tags.Select(t => $"{artifact.Name}:{t}").ToList()));
        }

        await DockerArchiveWriter.WriteAsync(path, entries, cancellationToken).ConfigureAwait(false);
        progress?.Report(new KoProgress("write", path, 1, 1));
        logger.LogInformation("Wrote docker-archive {Path}", path);
        return new Dictionary<string, string>();
    }

    /// <summary>The image of an artifact for a one-platform output: the build machine's, else the first.</summary>
    public static IImage HostImage(NamedArtifact artifact)
    {
        var host = Platform.Host();
        return artifact.Image ?? artifact.Images.FirstOrDefault(i => host.Accepts(i.Platform)) ?? artifact.Images[0];
    }
}
