using Ko.Engine.Go;
using Ko.Engine.Publishing;
using Ko.Engine.Util;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Pipeline;

/// <summary>The last stage: one result per pattern as given (printed references as ko prints them), the <c>--image-refs</c> file and the log lines.</summary>
internal static class ResultStage
{
    public static async Task<KoBuildResult> FinishAsync(BuildRun run, IReadOnlyList<GoPackage> packages, IReadOnlyList<Published> published, IReadOnlyDictionary<string, string> daemonReferences, CancellationToken cancellationToken)
    {
        var plan = run.Plan;
        var results = packages.Select(p =>
        {
            var (b, written) = published.First(x => x.Artifact.ImportPath == p.ImportPath);
            var reference = daemonReferences.GetValueOrDefault(b.Name) ?? Naming.PrintedReference(b.Name, plan.Tags, b.Digest.ToString(), plan.TagOnly);
            return new KoImageResult(p.ImportPath, b.Name, reference, b.Digest, b.MediaType, b.Images.Select(i => i.Platform).ToList(), plan.Tags)
            {
                PlatformImages = b.Images.Select(i => new Records.KoPlatformImage(i.Platform, i.Digest)).ToList(),
                SbomReferences = written.Attachments,
                Base = Records.KoBaseImage.Of(b),
            };
        }).ToList();

        if (plan.ImageRefsPath is not null)
        {
            // SBOM artifacts pushed with an image follow its reference, one a line.
            var attachments = published.ToDictionary(p => p.Artifact.ImportPath, p => p.Written.Attachments, StringComparer.Ordinal);
            var text = string.Concat(results.Select(r => string.Concat(RefLines(r).Concat(attachments.GetValueOrDefault(r.ImportPath, [])).Select(x => x + "\n"))));
            await AtomicOutput.WriteFileAsync(plan.ImageRefsPath, (s, ct) => s.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), ct).AsTask(), cancellationToken).ConfigureAwait(false);
        }

        foreach (var r in results)
        {
            run.Logger.LogInformation("Built {ImportPath} as {Reference}", r.ImportPath, r.Reference);
        }

        await Records.BuildRecord.WriteAsync(plan.BuildRecordPath, plan.WorkingDirectory, results, cancellationToken).ConfigureAwait(false);
        return new KoBuildResult(results, run.Counters.Statistics());
    }

    // As ko's recorder (pkg/publish/recorder.go): an image is its printed reference; an index is name@digest of the
    // index and then of each platform image, in index order.
    private static IEnumerable<string> RefLines(KoImageResult result) =>
        Oci.MediaTypes.IsIndex(result.MediaType)
            ? result.PlatformImages.Select(p => $"{result.Name}@{p.Digest}").Prepend($"{result.Name}@{result.Digest}")
            : [result.Reference];
}
