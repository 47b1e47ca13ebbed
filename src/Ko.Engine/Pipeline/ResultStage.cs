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
            var reference = daemonReferences.GetValueOrDefault(b.Name) ?? Printed(plan, b.Name, b.Digest.ToString());
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

    /// <summary>
    /// The reference ko prints for an image it did not load into a daemon. ko (pkg/commands/resolver.go makePublisher)
    /// chains its publishers in the order layout, tarball, registry and prints what the last one returns: a push or a
    /// tarball (pkg/publish/default.go, tarball.go) prints <c>name@sha256:…</c> (<c>name:tag@…</c> for one tag other
    /// than latest); a layout alone (pkg/publish/layout.go) prints <c>&lt;layout path as given&gt;@sha256:…</c>; with none
    /// of them its nopPublisher prints <c>name:&lt;first tag&gt;@sha256:…</c> (<c>name:tag</c> with tag-only), where a
    /// missing KO_DOCKER_REPO leaves the bare <c>&lt;base&gt;-&lt;md5&gt;</c> name (only there: what we write into layouts and
    /// archives is named under ko.local, and so is what we print for them). Our OCI archive counts as a tarball.
    /// </summary>
    internal static string Printed(Configuration.BuildPlan plan, string name, string digest)
    {
        if (plan.Push || plan.TarballPath is not null || plan.OciArchivePath is not null)
        {
            return Naming.PrintedReference(name, plan.Tags, digest, plan.TagOnly);
        }

        if (plan.OciLayoutPathAsGiven is { } layout)
        {
            return $"{layout}@{digest}";
        }

        if (!plan.RepositoryGiven && name.StartsWith(Configuration.BuildPlan.LocalRepository + "/", StringComparison.Ordinal))
        {
            name = name[(Configuration.BuildPlan.LocalRepository.Length + 1)..];
        }

        return plan.TagOnly ? $"{name}:{plan.Tags[0]}" : $"{name}:{plan.Tags[0]}@{digest}";
    }

    // As ko's recorder (pkg/publish/recorder.go): an image is its printed reference; an index is the printed
    // reference's repository (result.Context()) @ the digest of the index and then of each platform image, in index order.
    private static IEnumerable<string> RefLines(KoImageResult result)
    {
        if (!Oci.MediaTypes.IsIndex(result.MediaType))
        {
            return [result.Reference];
        }

        var context = RepositoryOf(result.Reference);
        return result.PlatformImages.Select(p => $"{context}@{p.Digest}").Prepend($"{context}@{result.Digest}");
    }

    // "name:tag@sha256:…" → "name"; a ':' before the last '/' is a registry port, not a tag.
    internal static string RepositoryOf(string reference)
    {
        var at = reference.IndexOf('@', StringComparison.Ordinal);
        var name = at < 0 ? reference : reference[..at];
        var colon = name.LastIndexOf(':');
        return colon > name.LastIndexOf('/') ? name[..colon] : name;
    }
}
