using System.Collections.Concurrent;
using Ko.Engine.Configuration;
using Ko.Engine.Go;
using Ko.Engine.Images;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using Ko.Engine.Sbom;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Pipeline;

/// <summary>
/// The go build, layers and assemble stages for one run: <c>go build</c> per (pattern, platform), bounded by
/// <c>--jobs</c>, into a stable path in the cache (so Go can skip relinking); then the kodata and binary layers
/// (from the cache when unchanged) and the image on its base, with the image keys ko lacks applied.
/// </summary>
internal sealed class ImageStage(BuildRun run, TargetPlan targets, CancellationToken cancellationToken) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(run.Plan.Jobs);
    private readonly ConcurrentDictionary<(string, Platform), Lazy<Task<IImage>>> _baseImages = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<FileLayer>>> _kodata = new(StringComparer.Ordinal);

    // Each go output's stat fingerprint just before go build ran on it: what lets the binary layer be found by build ID.
    private readonly ConcurrentDictionary<string, Util.FileFingerprint?> _beforeBuild = new(StringComparer.Ordinal);

    /// <summary>The build info of each image's binary (for SBOMs), by image digest.</summary>
    public ConcurrentDictionary<Digest, GoBuildInfo> BuildInfos { get; } = new();

    /// <summary>Runs <c>go build</c> of pattern <paramref name="index"/> for <paramref name="platform"/>; returns the binary's path.</summary>
    public async Task<string> GoBuildAsync(int index, Platform platform)
    {
        var s = targets.Settings[index];
        var pattern = targets.BuildPatterns[index];
        var output = Path.Combine(run.Store.Root, "go", CacheKey.Of(s.Directory, pattern)[..16], platform.ToString().Replace('/', '_'), "app");
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _beforeBuild[output] = Util.UnixFileStatus.FingerprintOf(output, followLinks: false);
            await run.Go.BuildAsync(s.Directory, pattern, platform, output, s.Flags, s.Environment, cancellationToken).ConfigureAwait(false);
        }
        catch (KoException ex)
        {
            ex.ImportPath ??= targets.Patterns[index];
            throw;
        }
        finally
        {
            _gate.Release();
        }

        run.Logger.LogDebug("go build {Pattern} for {Platform} done at {Elapsed} ms", pattern, platform, run.Clock.ElapsedMilliseconds);
        run.Counters.GoBuild();
        run.Progress?.Report(new KoProgress("build", $"{pattern} {platform}", 1, 1));
        return output;
    }

    /// <summary>Layers the binary <paramref name="goBuild"/> produces and assembles the image of one platform.</summary>
    public async Task<IImage> ImageAsync(GoPackage package, int index, Platform platform, BaseImage resolvedBase, Task<string> goBuild)
    {
        try
        {
            return await AssembleAsync(package, index, platform, resolvedBase, goBuild).ConfigureAwait(false);
        }
        catch (KoException ex)
        {
            ex.ImportPath ??= targets.Patterns[index];
            throw;
        }
    }

    private async Task<IImage> AssembleAsync(GoPackage package, int index, Platform platform, BaseImage resolvedBase, Task<string> goBuild)
    {
        var plan = run.Plan;
        var s = targets.Settings[index];
        var output = await goBuild.ConfigureAwait(false);
        var appName = package.ImportPath.TrimEnd('/').Split('/')[^1];
        var baseTask = _baseImages.GetOrAdd((s.BaseImage, platform), p => new Lazy<Task<IImage>>(() => resolvedBase.GetImageAsync(p.Item2, cancellationToken))).Value;
        var kodataTask = _kodata.GetOrAdd(package.ImportPath, _ => new Lazy<Task<FileLayer>>(() => KodataAsync(package))).Value;
        var binary = await BinaryAsync(index, platform, output, appName, s).ConfigureAwait(false);
        // The SBOM's build info is read from the verified binary (a few small reads; no go process).
        var buildInfo = plan.Sbom == SbomFormat.None ? null : BuildInfoReader.ReadAsync(output, () => GoTool.Locate(plan.Environment), plan.Environment, cancellationToken);
        var spec = new AppImageSpec
        {
            ImportPath = package.ImportPath,
            AppPath = $"{AppLayers.AppDirectory}/{appName}",
            Created = plan.CreationTime,
            KodataCreated = plan.KodataCreationTime,
            Labels = s.Labels,
            Annotations = s.Annotations,
            User = s.User,
        };
        var image = ImageAssembler.Assemble(await baseTask.ConfigureAwait(false), resolvedBase.Name, await kodataTask.ConfigureAwait(false), binary, spec);
        var final = ImageOverrides.Apply(image, s, package.ImportPath);
        if (buildInfo is not null)
        {
            BuildInfos[final.Digest] = await buildInfo.ConfigureAwait(false);
        }

        return final;
    }

    private async Task<FileLayer> KodataAsync(GoPackage package)
    {
        var allowed = AppLayers.KodataAllowedRoot(package.Dir, run.Plan.Environment);
        var r = await AppLayers.KodataLayerAsync(run.Store, run.Cache, package.Dir, run.Plan.KodataCreationTime?.ToUnixTimeSeconds() ?? 0, cancellationToken, allowed).ConfigureAwait(false);
        Count(r, $"kodata of {package.ImportPath}");
        return r.Layer;
    }

    // The cached binary is reused only while its layer matches the stamp go's last build left (no second hash).
    private async Task<FileLayer> BinaryAsync(int index, Platform platform, string output, string appName, BuildSettings s)
    {
        var mtime = run.Plan.CreationTime?.ToUnixTimeSeconds() ?? 0;
        var binary = await GoBinaryStamp.LayerVerifiedAsync(
            output,
            string.Join('\n', appName, mtime, string.Join(',', s.Capabilities)),
            () => AppLayers.BinaryLayerAsync(run.Store, run.Cache, output, appName, mtime, cancellationToken, s.Capabilities),
            b => b.Layer.DiffId.ToString(),
            () => GoBuildAsync(index, platform),
            run.Logger,
            cancellationToken,
            new BuildIdRoute<AppLayers.LayerOutcome>(
                _beforeBuild.GetValueOrDefault(output),
                (buildId, size) => AppLayers.BinaryLayerByBuildIdAsync(run.Cache, buildId, size, appName, s.Capabilities, cancellationToken),
                (buildId, size, made) => AppLayers.RememberBinaryLayerAsync(run.Cache, buildId, size, appName, s.Capabilities, made.Layer, cancellationToken))).ConfigureAwait(false);
        Count(binary, $"{AppLayers.AppDirectory}/{appName} ({platform})");
        return binary.Layer;
    }

    private void Count(AppLayers.LayerOutcome result, string what)
    {
        run.Progress?.Report(new KoProgress("layer", what, 1, 1));
        run.Counters.Layer(result.FromCache);
        if (result.FromCache)
        {
            run.Logger.LogDebug("Reused cached layer {Digest} for {Layer}: unchanged input, no tar, gzip or hashing", result.Layer.Descriptor.Digest, what);
        }
        else
        {
            run.Logger.LogDebug("Wrote layer {Digest} ({Size} bytes) for {Layer}", result.Layer.Descriptor.Digest, result.Layer.Descriptor.Size, what);
        }
    }

    public void Dispose() => _gate.Dispose();
}
