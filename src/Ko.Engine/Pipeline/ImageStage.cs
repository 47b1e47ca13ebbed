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
    private readonly GoBuildBatches _batches = new(targets);

    /// <summary>The build info of each image's binary (for SBOMs), by image digest.</summary>
    public ConcurrentDictionary<Digest, GoBuildInfo> BuildInfos { get; } = new();

    /// <summary>
    /// Runs <c>go build</c> of pattern <paramref name="index"/> for <paramref name="platform"/>; returns the binary's
    /// path. Patterns that share the platform and the build settings (directory, flags, environment) are built by one
    /// <c>go build -o DIR pkg1 pkg2 ...</c> (<see cref="GoBuildBatches"/>), so go loads, compiles and links them in one
    /// process; when that batch fails, each of its patterns is built alone, so a failure names the right import path.
    /// </summary>
    public async Task<string> GoBuildAsync(int index, Platform platform)
    {
        if (_batches.For(index, platform, BuildBatchAsync) is var (batch, running))
        {
            try
            {
                var outputs = await running.ConfigureAwait(false);
                if (outputs.TryGetValue(index, out var built))
                {
                    Built(index, platform);
                    return built;
                }
            }
            catch (KoException ex) when (ex.Code == KoErrorCodes.BuildFailed && !cancellationToken.IsCancellationRequested)
            {
                run.Logger.LogDebug("go build of {Count} packages for {Platform} failed; building each alone to tell which: {Message}", batch.Indices.Count, platform, ex.Message);
            }
        }

        var output = Path.Combine(run.Store.Root, "go", CacheKey.Of(targets.Settings[index].Directory, targets.BuildPatterns[index])[..16], platform.ToString().Replace('/', '_'), "app");
        await BuildOneAsync(index, platform, output).ConfigureAwait(false);
        Built(index, platform);
        return output;
    }

    /// <summary>Builds pattern <paramref name="index"/> alone into <paramref name="output"/> (also how a corrupt cached binary is relinked).</summary>
    private async Task BuildOneAsync(int index, Platform platform, string output)
    {
        var s = targets.Settings[index];
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _beforeBuild[output] = Util.UnixFileStatus.FingerprintOf(output, followLinks: false);
            run.Logger.LogDebug("go build {Pattern} for {Platform} starts at {Elapsed} ms", targets.BuildPatterns[index], platform, run.Clock.ElapsedMilliseconds);
            await run.Go.BuildAsync(s.Directory, targets.BuildPatterns[index], platform, output, s.Flags, s.Environment, cancellationToken).ConfigureAwait(false);
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
    }

    /// <summary>Runs one batch: <c>go build -o DIR</c> of its patterns; each output go did not write (or touch) is left out.</summary>
    private async Task<IReadOnlyDictionary<int, string>> BuildBatchAsync(GoBuildBatches.Batch batch)
    {
        var s = targets.Settings[batch.Indices[0]];
        var patterns = batch.Indices.Select(i => targets.BuildPatterns[i]).ToList();
        var directory = Path.Combine(run.Store.Root, "go", "batch-" + batch.Key[..16], batch.Platform.ToString().Replace('/', '_'));
        var before = GoTool.OutputsOf(patterns, batch.Platform, directory).Select(o => Util.UnixFileStatus.FingerprintOf(o.Output, followLinks: false)).ToList();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        IReadOnlyList<(string ImportPath, string Output)> outputs;
        try
        {
            outputs = await run.Go.BuildManyAsync(s.Directory, patterns, batch.Platform, directory, s.Flags, s.Environment, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        var result = new Dictionary<int, string>();
        for (var j = 0; j < batch.Indices.Count; j++)
        {
            var after = Util.UnixFileStatus.FingerprintOf(outputs[j].Output, followLinks: false);
            // go writes or touches every output it builds; one it left as it was (or never made) was named otherwise.
            if (after is not null && after != before[j])
            {
                _beforeBuild[outputs[j].Output] = before[j];
                result[batch.Indices[j]] = outputs[j].Output;
            }
        }

        return result;
    }

    private void Built(int index, Platform platform)
    {
        run.Logger.LogDebug("go build {Pattern} for {Platform} done at {Elapsed} ms", targets.BuildPatterns[index], platform, run.Clock.ElapsedMilliseconds);
        run.Counters.GoBuild();
        run.Progress?.Report(new KoProgress("build", $"{targets.BuildPatterns[index]} {platform}", 1, 1));
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
        // The base image and the kodata layer do not need the binary: they are made while go builds (kodata on the
        // thread pool, since checking a large tree takes a while before its first await).
        var baseTask = _baseImages.GetOrAdd((s.BaseImage, platform), p => new Lazy<Task<IImage>>(() => resolvedBase.GetImageAsync(p.Item2, cancellationToken))).Value;
        var kodataTask = _kodata.GetOrAdd(package.ImportPath, _ => new Lazy<Task<FileLayer>>(() => Task.Run(() => KodataAsync(package), cancellationToken))).Value;
        var output = await goBuild.ConfigureAwait(false);
        var appName = package.ImportPath.TrimEnd('/').Split('/')[^1];
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
            () => BuildOneAsync(index, platform, output),
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

    /// <summary>The kodata layers started so far, for the run to wait for before it returns (also after a failure).</summary>
    public IEnumerable<Task> Started => _kodata.Values.Where(l => l.IsValueCreated).Select(l => (Task)l.Value).ToList();

    public void Dispose() => _gate.Dispose();
}
