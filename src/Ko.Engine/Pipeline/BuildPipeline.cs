using Ko.Engine.Configuration;
using Ko.Engine.Go;
using Ko.Engine.Images;
using Ko.Engine.Oci;
using Ko.Engine.Publishing;
using Ko.Engine.Sbom;
using Ko.Engine.Sinks;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Pipeline;

/// <summary>
/// One build run as stages with explicit records between them: plan (<see cref="BuildPlan"/>) → packages
/// (<see cref="TargetPlan"/>) → go build, layers, assemble (<see cref="ImageStage"/>) → index and SBOMs
/// (<see cref="NamedArtifact"/>) → publish (<see cref="IImageSink"/>). Each import path is published as soon as it and
/// those before it are ready, so pushes overlap the builds still running; the first failure stops the rest and
/// names its import path (<see cref="KoException.ImportPath"/>).
/// </summary>
internal sealed class BuildPipeline(ILogger logger, IProgress<KoProgress>? progress)
{
    public async Task<KoBuildResult> RunAsync(KoBuildOptions options, CancellationToken cancellationToken)
    {
        var run = new BuildRun(PlanStage.Create(options, logger), logger, progress);
        using var signKey = await Signing.BuildSigner.LoadKeyAsync(run.Plan, cancellationToken).ConfigureAwait(false); // a bad key fails before any build
        run.Logger.LogDebug("plan read at {Elapsed} ms", run.Clock.ElapsedMilliseconds);
        await using var targets = await PackageStage.PlanAsync(run, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Building {Count} import path(s) for {Platforms} on {Base}", targets.Patterns.Count, string.Join(",", targets.Platforms.SelectMany(p => p).Distinct()), string.Join(",", targets.Bases.Keys));
        using var failure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var images = new ImageStage(run, targets, failure.Token);
        var goBuilds = Enumerable.Range(0, targets.Patterns.Count).Select(i => targets.Platforms[i].Select(pl => images.GoBuildAsync(i, pl)).ToList()).ToList();
        var (packages, bases) = await PackagesAndBasesAsync(run, targets, goBuilds, failure).ConfigureAwait(false);
        using var sink = SinkFactory.For(run, signKey);
        var published = new List<Published>();
        try
        {
            var artifacts = ArtifactTasks(run, targets, images, packages, bases, goBuilds);
            var publish = PublishInOrderAsync(run, artifacts, sink, published, failure.Token);
            // Every platform image is watched too, so the first failure stops the other platforms' builds at once.
            await Stages.WhenAllFailFastAsync([.. artifacts.SelectMany(a => a.Images.Cast<Task>().Append(a.Artifact)), publish], failure, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Builds of a pattern that go list merged with another are not awaited above; stop and collect them.
            await failure.CancelAsync().ConfigureAwait(false);
            await Stages.Quietly(goBuilds.SelectMany(t => t).Concat(images.Started)).ConfigureAwait(false);
        }

        var daemonReferences = await sink.CompleteAsync(cancellationToken).ConfigureAwait(false);
        logger.LogDebug("outputs written at {Elapsed} ms", run.Clock.ElapsedMilliseconds);
        return await ResultStage.FinishAsync(run, packages, published, daemonReferences, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the bases and go list, and checks the packages; on failure the running builds are stopped.</summary>
    private static async Task<(IReadOnlyList<GoPackage>, Dictionary<string, BaseImage>)> PackagesAndBasesAsync(BuildRun run, TargetPlan targets, List<List<Task<string>>> goBuilds, CancellationTokenSource failure)
    {
        try
        {
            var bases = new Dictionary<string, BaseImage>(StringComparer.Ordinal);
            foreach (var (name, task) in targets.Bases)
            {
                bases[name] = await task.ConfigureAwait(false);
            }

            var packages = await targets.List.ConfigureAwait(false);
            run.Logger.LogDebug("go list and the base image done at {Elapsed} ms", run.Clock.ElapsedMilliseconds);
            PackageStage.Validate(packages);
            PlanStage.ValidateImageNames(run.Plan, packages);
            return (packages, bases);
        }
        catch
        {
            await failure.CancelAsync().ConfigureAwait(false);
            await Stages.Quietly(goBuilds.SelectMany(t => (IEnumerable<Task>)t)).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>One task per distinct import path: its platform images, then the index (for several) and the SBOMs.</summary>
    private static List<(int Index, Task<NamedArtifact> Artifact, IReadOnlyList<Task<IImage>> Images)> ArtifactTasks(BuildRun run, TargetPlan targets, ImageStage images, IReadOnlyList<GoPackage> packages, IReadOnlyDictionary<string, BaseImage> bases, List<List<Task<string>>> goBuilds) =>
        packages
            .Select((p, i) => (Package: p, Index: i))
            .DistinctBy(x => x.Package.ImportPath)
            .Select(x =>
            {
                var resolvedBase = bases[targets.Settings[x.Index].BaseImage];
                var platformImages = targets.Platforms[x.Index].Select((pl, j) => images.ImageAsync(x.Package, x.Index, pl, resolvedBase, goBuilds[x.Index][j])).ToList();
                return (x.Index, ArtifactAsync(run, targets, images, x.Package, x.Index, resolvedBase, platformImages), (IReadOnlyList<Task<IImage>>)platformImages);
            })
            .ToList();

    private static async Task<NamedArtifact> ArtifactAsync(BuildRun run, TargetPlan targets, ImageStage images, GoPackage package, int index, BaseImage resolvedBase, List<Task<IImage>> platformImages)
    {
        var plan = run.Plan;
        var built = await Task.WhenAll(platformImages).ConfigureAwait(false);
        var multi = targets.Platforms[index].Count > 1 || (plan.AllPlatforms && resolvedBase.IsMultiPlatform);
        IArtifact artifact = multi ? ImageAssembler.AssembleIndex(built, resolvedBase, targets.Settings[index].Annotations) : built[0];
        var name = Naming.ImageName(plan.Repository, package.ImportPath, plan.Naming);
        var sboms = plan.Sbom == SbomFormat.None ? [] : SbomArtifact.For(plan.Sbom, package.ImportPath, name, artifact, (image, _) => images.BuildInfos[image.Digest]);
        return new NamedArtifact(package.ImportPath, name, artifact, sboms);
    }

    /// <summary>Publishes the artifacts in the order given, each as soon as it (and those before it) is ready.</summary>
    private static async Task PublishInOrderAsync(BuildRun run, List<(int Index, Task<NamedArtifact> Artifact, IReadOnlyList<Task<IImage>> Images)> artifacts, IImageSink sink, List<Published> published, CancellationToken cancellationToken)
    {
        foreach (var (_, task, _) in artifacts)
        {
            var artifact = await task.ConfigureAwait(false);
            try
            {
                run.Logger.LogDebug("{Name} handed to the sinks at {Elapsed} ms", artifact.Name, run.Clock.ElapsedMilliseconds);
                var result = await sink.WriteAsync(artifact, run.Plan.Tags, cancellationToken).ConfigureAwait(false);
                if (run.Plan.Push)
                {
                    run.Logger.LogDebug("{Name} pushed at {Elapsed} ms", artifact.Name, run.Clock.ElapsedMilliseconds);
                }

                run.Counters.Pushed(result.Pushed);
                published.Add(new Published(artifact, result));
            }
            catch (KoException ex)
            {
                ex.ImportPath ??= artifact.ImportPath;
                throw;
            }
        }
    }
}

/// <summary>An artifact and what its sinks did with it.</summary>
internal sealed record Published(NamedArtifact Artifact, SinkResult Written);
