using System.Collections.Concurrent;
using Ko.Engine.Configuration;
using Ko.Engine.Go;
using Ko.Engine.Images;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using Ko.Engine.Publishing;
using Ko.Engine.Registry;
using Ko.Engine.Sbom;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ko.Engine;

/// <summary>
/// The engine's facade: builds Go programs into OCI images and writes them out. The faces (CLI, Cake, NUKE) turn
/// their settings into <see cref="KoBuildOptions"/> and their loggers into an <see cref="ILogger"/>.
/// </summary>
public sealed partial class KoEngine
{
    private readonly ILogger _logger;
    private readonly IProgress<KoProgress>? _progress;

    /// <summary>Creates an engine that logs to <paramref name="logger"/> and reports to <paramref name="progress"/>.</summary>
    /// <param name="logger">Where log messages go; none when null.</param>
    /// <param name="progress">Where progress goes; none when null.</param>
    public KoEngine(ILogger? logger = null, IProgress<KoProgress>? progress = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _progress = progress;
    }

    /// <summary>
    /// Builds every import path for every platform (concurrently, bounded by <see cref="KoBuildOptions.Jobs"/>),
    /// assembles images (and an index for several platforms) and writes the requested outputs atomically.
    /// </summary>
    /// <param name="options">What to build and where to put it.</param>
    /// <param name="cancellationToken">Cancels the build; running <c>go</c> processes are stopped.</param>
    /// <exception cref="KoException">Bad input, a failed build or an unwritable output, with a stable code.</exception>
    public async Task<KoBuildResult> BuildAsync(KoBuildOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var plan = BuildPlan.Create(options);
        ImportPaths.Validate(plan.ImportPaths); // data from YAML and command lines, before anything runs
        foreach (var warning in plan.Warnings)
        {
            _logger.LogWarning("{Warning}", warning);
        }

        if (plan.Push)
        {
            // Fail before any build when the images' names cannot be pushed (KO_DOCKER_REPO may be a bare
            // registry host such as localhost:5000 unless --bare makes that the whole name).
            RegistryPublisher.ValidateRepository(Naming.ImageName(plan.Repository, "example.com/app", plan.Naming));
        }

        var store = new ContentStore(plan.CacheDirectory);
        var cache = new LayerCache(store);
        // go runs are recorded in the cache, and those a killed run left behind are stopped first.
        var go = new GoTool(GoTool.Locate(plan.Environment), plan.Environment, _logger, Util.ChildRegistry.Open(Path.Combine(store.Root, "go", "running"), _logger));
        var templates = new TemplateContext(plan.Environment, plan.WorkingDirectory, plan.TemplateTime, ct => go.EnvAsync(plan.WorkingDirectory, ct));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // .ko.yaml builds[]: each entry's dir + main resolved with go list (one call per distinct dir), as ko does;
        // a pattern naming an entry's import path is listed and built in the entry's dir (multi-module repositories).
        var entries = plan.Config.Builds.Count > 0 ? await ResolveBuildEntriesAsync(go, plan, cancellationToken).ConfigureAwait(false) : new Dictionary<string, KoBuildConfig>();
        var patterns = await go.ExpandWildcardsAsync(plan.WorkingDirectory, plan.ImportPaths, cancellationToken).ConfigureAwait(false);

        // go list and the go builds overlap when no setting depends on the import path: builds start from the
        // patterns as given while go list checks that each is a package main; a bad path cancels the builds.
        var listTask = ListPatternsAsync(go, plan, patterns, entries, cancellationToken);
        // One set of registry settings for reading the base and for pushing.
        // Made on first use, so a build that touches no registry never loads the HTTP stack (start-up time).
        var registryOptions = new Lazy<RegistryOptions>(() => RegistryOptionsFor(plan));
        var baseTasks = new Dictionary<string, Task<BaseImage>>(StringComparer.Ordinal);

        // Bases are released when the build is over (success or not): a registry base holds an HTTP client, and
        // its layers are streamed until the last output or push is written.
        await using var releaseBases = new Deferred(async () =>
        {
            foreach (var task in baseTasks.Values)
            {
                if (task.IsCompleted)
                {
                    try
                    {
                        (await task.ConfigureAwait(false)).Dispose();
                    }
                    catch (Exception) when (task.IsFaulted || task.IsCanceled)
                    {
                        // A base that never opened has nothing to release.
                    }
                }
            }
        });
        var settings = new BuildSettings[patterns.Count];
        var buildPatterns = patterns.ToArray();
        var platformsOf = new IReadOnlyList<Platform>[patterns.Count];
        try
        {
            IReadOnlyList<GoPackage>? early = null;
            if (plan.SettingsDependOnImportPath)
            {
                early = await listTask.ConfigureAwait(false);
                ValidatePackages(early);
            }

            BuildSettings? shared = null;
            for (var i = 0; i < patterns.Count; i++)
            {
                var importPath = early?[i].ImportPath;
                if (importPath is not null && plan.DirectoryOf(entries.GetValueOrDefault(importPath)) != plan.WorkingDirectory)
                {
                    buildPatterns[i] = importPath; // a relative pattern means nothing in another module's dir
                }

                settings[i] = early is null
                    ? shared ??= await plan.SettingsAsync(entries.GetValueOrDefault(patterns[i]), null, templates, cancellationToken).ConfigureAwait(false)
                    : await plan.SettingsAsync(entries.GetValueOrDefault(importPath!), importPath, templates, cancellationToken).ConfigureAwait(false);
                var baseName = settings[i].BaseImage;
                if (!baseTasks.ContainsKey(baseName))
                {
                    baseTasks[baseName] = BaseImageResolver.ResolveAsync(baseName, plan.WorkingDirectory, store, cache, () => registryOptions.Value, cancellationToken);
                }
            }

            // The generated bases offer a fixed platform list, so their builds need not wait for the base's layer.
            var platformsByBase = new Dictionary<string, IReadOnlyList<Platform>>(StringComparer.Ordinal);
            foreach (var (name, task) in baseTasks)
            {
                if (SyntheticBase.IsSynthetic(name))
                {
                    platformsByBase[name] = Sources.PlatformSelector.Choose(plan.Platforms, plan.AllPlatforms, SyntheticBase.Offered, multiPlatform: true, name);
                }
                else
                {
                    var b = await task.ConfigureAwait(false);
                    platformsByBase[name] = Sources.PlatformSelector.Choose(plan.Platforms, plan.AllPlatforms, b.Platforms, b.IsMultiPlatform, b.Name);
                }
            }

            for (var i = 0; i < patterns.Count; i++)
            {
                platformsOf[i] = platformsByBase[settings[i].BaseImage];
            }
        }
        catch
        {
            await Quietly(baseTasks.Values.Cast<Task>().Append(listTask)).ConfigureAwait(false);
            throw;
        }

        _logger.LogInformation("Building {Count} import path(s) for {Platforms} on {Base}", patterns.Count, string.Join(",", platformsOf.SelectMany(p => p).Distinct()), string.Join(",", baseTasks.Keys));

        var stats = new Counters();
        using var gate = new SemaphoreSlim(plan.Jobs);
        using var failure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var baseImages = new ConcurrentDictionary<(string, Platform), Lazy<Task<IImage>>>();
        var kodata = new ConcurrentDictionary<string, Lazy<Task<FileLayer>>>(StringComparer.Ordinal);
        var buildInfos = new ConcurrentDictionary<Digest, GoBuildInfo>();

        async Task<string> GoBuildAsync(int index, Platform platform)
        {
            var ct = failure.Token;
            var s = settings[index];
            var pattern = buildPatterns[index];
            var output = Path.Combine(store.Root, "go", CacheKey.Of(s.Directory, pattern)[..16], platform.ToString().Replace('/', '_'), "app");
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await go.BuildAsync(s.Directory, pattern, platform, output, s.Flags, s.Environment, ct).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }

            _logger.LogDebug("go build {Pattern} for {Platform} done at {Elapsed} ms", pattern, platform, clock.ElapsedMilliseconds);
            Interlocked.Increment(ref stats.GoBuilds);
            _progress?.Report(new KoProgress("build", $"{pattern} {platform}", 1, 1));
            return output;
        }

        var goBuilds = Enumerable.Range(0, patterns.Count).Select(i => platformsOf[i].Select(pl => GoBuildAsync(i, pl)).ToList()).ToList();
        IReadOnlyList<GoPackage> packages;
        var bases = new Dictionary<string, BaseImage>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, task) in baseTasks)
            {
                bases[name] = await task.ConfigureAwait(false);
            }

            packages = await listTask.ConfigureAwait(false);
            _logger.LogDebug("go list and the base image done at {Elapsed} ms", clock.ElapsedMilliseconds);
            ValidatePackages(packages);
            ValidateImageNames(plan, packages);
        }
        catch
        {
            await failure.CancelAsync().ConfigureAwait(false);
            await Quietly(goBuilds.SelectMany(t => (IEnumerable<Task>)t).Concat(baseTasks.Values)).ConfigureAwait(false);
            throw;
        }

        async Task<IImage> LayerAndAssembleAsync(GoPackage package, int index, Platform platform, Task<string> goBuild)
        {
            var ct = failure.Token;
            var s = settings[index];
            var resolvedBase = bases[s.BaseImage];
            var output = await goBuild.ConfigureAwait(false);
            var appName = package.ImportPath.TrimEnd('/').Split('/')[^1];
            var baseTask = baseImages.GetOrAdd((s.BaseImage, platform), p => new Lazy<Task<IImage>>(() => resolvedBase.GetImageAsync(p.Item2, ct))).Value;
            var kodataTask = kodata.GetOrAdd(package.ImportPath, _ => new Lazy<Task<FileLayer>>(async () =>
            {
                var allowed = AppLayers.KodataAllowedRoot(package.Dir, plan.Environment);
                var r = await AppLayers.KodataLayerAsync(store, cache, package.Dir, plan.KodataCreationTime?.ToUnixTimeSeconds() ?? 0, ct, allowed).ConfigureAwait(false);
                Count(r, $"kodata of {package.ImportPath}", stats);
                return r.Layer;
            })).Value;
            // The cached binary is reused only while its layer matches the stamp go's last build left (no second hash).
            var mtime = plan.CreationTime?.ToUnixTimeSeconds() ?? 0;
            var binary = await GoBinaryStamp.LayerVerifiedAsync(
                output,
                string.Join('\n', appName, mtime, string.Join(',', s.Capabilities)),
                () => AppLayers.BinaryLayerAsync(store, cache, output, appName, mtime, ct, s.Capabilities),
                b => b.Layer.DiffId.ToString(),
                () => GoBuildAsync(index, platform),
                _logger,
                ct).ConfigureAwait(false);
            Count(binary, $"{AppLayers.AppDirectory}/{appName} ({platform})", stats);
            // The SBOM's build info is read from the verified binary (a few small reads; no go process).
            var buildInfo = plan.Sbom == SbomFormat.None ? null : BuildInfoReader.ReadAsync(output, () => GoTool.Locate(plan.Environment), plan.Environment, ct);

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
            var image = ImageAssembler.Assemble(await baseTask.ConfigureAwait(false), resolvedBase.Name, await kodataTask.ConfigureAwait(false), binary.Layer, spec);
            var final = ImageOverrides.Apply(image, s, package.ImportPath);
            if (buildInfo is not null)
            {
                buildInfos[final.Digest] = await buildInfo.ConfigureAwait(false);
            }

            return final;
        }

        var work = packages
            .Select((p, i) => (Package: p, Index: i))
            .DistinctBy(x => x.Package.ImportPath)
            .Select(x => (x.Package, x.Index, Tasks: platformsOf[x.Index].Select((pl, j) => LayerAndAssembleAsync(x.Package, x.Index, pl, goBuilds[x.Index][j])).ToList()))
            .ToList();
        var allTasks = work.SelectMany(w => w.Tasks).ToList();
        try
        {
            await WhenAllFailFastAsync(allTasks, failure).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && allTasks.FirstOrDefault(t => t.IsFaulted) is { } faulted)
        {
            // Another build failed and cancelled this one; report that failure instead.
            await faulted.ConfigureAwait(false);
            throw;
        }
        finally
        {
            // Builds of a pattern that go list merged with another are not awaited above; stop and collect them.
            await failure.CancelAsync().ConfigureAwait(false);
            await Quietly(goBuilds.SelectMany(t => t)).ConfigureAwait(false);
        }

        _logger.LogDebug("images assembled at {Elapsed} ms", clock.ElapsedMilliseconds);
        var built = new List<BuiltImage>();
        foreach (var (package, index, tasks) in work)
        {
            var images = new List<IImage>();
            foreach (var task in tasks)
            {
                images.Add(await task.ConfigureAwait(false));
            }

            var resolvedBase = bases[settings[index].BaseImage];
            var multi = platformsOf[index].Count > 1 || (plan.AllPlatforms && resolvedBase.IsMultiPlatform);
            var name = Naming.ImageName(plan.Repository, package.ImportPath, plan.Naming);
            built.Add(multi
                ? new BuiltImage(package.ImportPath, name, null, ImageAssembler.AssembleIndex(images, resolvedBase, settings[index].Annotations))
                : new BuiltImage(package.ImportPath, name, images[0], null));
        }

        var sboms = MakeSboms(plan, built, buildInfos);
        await WriteOutputsAsync(plan, built, sboms, cancellationToken).ConfigureAwait(false);
        _logger.LogDebug("outputs written at {Elapsed} ms", clock.ElapsedMilliseconds);

        var pushed = default(PushOutcome);
        var sbomReferences = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (plan.Push)
        {
            using var publisher = new RegistryPublisher(registryOptions.Value);
            foreach (var b in built)
            {
                pushed += await publisher.PublishAsync(b, plan.Tags, cancellationToken).ConfigureAwait(false);
                if (sboms.TryGetValue(b, out var artifacts))
                {
                    sbomReferences[b.ImportPath] = await publisher.AttachSbomsAsync(b, artifacts, plan.SbomAttach, cancellationToken).ConfigureAwait(false);
                }

                _progress?.Report(new KoProgress("push", b.Name, 1, 1));
            }

            _logger.LogDebug("pushed at {Elapsed} ms", clock.ElapsedMilliseconds);
        }

        // --local (or a ko.local repository): load into docker or podman; the printed reference is name:<hex>, as ko.
        var loaded = plan.Local
            ? await new DaemonPublisher(store, plan.Environment, _logger, _progress).LoadAsync(built, plan.Tags, cancellationToken).ConfigureAwait(false)
            : null;

        var results = packages.Select(p =>
        {
            var b = built.First(x => x.ImportPath == p.ImportPath);
            var reference = loaded?.GetValueOrDefault(b.Name) ?? Naming.PrintedReference(b.Name, plan.Tags, b.Digest.ToString(), plan.TagOnly);
            return new KoImageResult(p.ImportPath, b.Name, reference, b.Digest, b.MediaType, b.Images.Select(i => i.Platform).ToList(), plan.Tags)
            {
                // build record
                PlatformImages = b.Images.Select(i => new Records.KoPlatformImage(i.Platform, i.Digest)).ToList(),
                SbomReferences = sbomReferences.GetValueOrDefault(p.ImportPath, []),
                Base = Records.KoBaseImage.Of(b),
            };
        }).ToList();

        if (plan.ImageRefsPath is not null)
        {
            // SBOM artifacts pushed with an image follow its reference, one a line.
            var text = string.Concat(results.Select(r => r.Reference + "\n" + string.Concat(sbomReferences.GetValueOrDefault(r.ImportPath, []).Select(x => x + "\n"))));
            await AtomicOutput.WriteFileAsync(plan.ImageRefsPath, (s, ct) => s.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), ct).AsTask(), cancellationToken).ConfigureAwait(false);
        }

        foreach (var r in results)
        {
            _logger.LogInformation("Built {ImportPath} as {Reference}", r.ImportPath, r.Reference);
        }

        await Records.BuildRecord.WriteAsync(options.BuildRecordPath, plan.WorkingDirectory, results, cancellationToken).ConfigureAwait(false); // build record
        return new KoBuildResult(results, new KoBuildStatistics(stats.GoBuilds, stats.LayersWritten, stats.LayersReused, pushed.BlobsUploaded, pushed.BlobsSkipped, pushed.BlobsMounted));
    }

    // Go allows '~' and '+' (and more) in package directories; a repository name does not, and an image name made
    // from one would be written, printed and pushed as a reference that is none.
    private static void ValidateImageNames(BuildPlan plan, IReadOnlyList<GoPackage> packages)
    {
        foreach (var package in packages)
        {
            var name = Naming.ImageName(plan.Repository, package.ImportPath, plan.Naming);
            if (!References.ImageReference.TryParse(name, out _, out var error))
            {
                throw new KoException(KoErrorCodes.InvalidOption, $"the image name '{References.ImageReference.Redact(name)}' made from {package.ImportPath} is not a valid reference: {error}. Choose a lower-case repository to push to, and rename a package directory that has other characters than lower-case letters, digits, '.', '_' and '-' (or name the image with --bare).");
            }
        }
    }

    private static void ValidatePackages(IReadOnlyList<GoPackage> packages)
    {
        foreach (var package in packages)
        {
            if (package.Error is not null)
            {
                throw new KoException(KoErrorCodes.PackageNotFound, $"cannot build '{package.Pattern}': {package.Error}");
            }

            if (package.Name != "main")
            {
                throw new KoException(KoErrorCodes.NotMainPackage, $"'{package.Pattern}' ({package.ImportPath}) is package {package.Name}, not package main: ko builds commands only. Name the directory that holds func main.");
            }
        }
    }

    /// <summary>Import path → <c>builds[]</c> entry, resolving each entry's <c>dir</c> + <c>main</c> (a package directory or a .go file) with go list.</summary>
    private static async Task<Dictionary<string, KoBuildConfig>> ResolveBuildEntriesAsync(GoTool go, BuildPlan plan, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, KoBuildConfig>(StringComparer.Ordinal);
        foreach (var group in plan.Config.Builds.GroupBy(plan.DirectoryOf))
        {
            if (!Directory.Exists(group.Key))
            {
                throw new KoException(KoErrorCodes.ConfigWrongType, $"{plan.Config.Path}: {group.First().Describe()}.dir {group.Key} does not exist; fix dir (it is relative to the working directory).");
            }

            var mains = group.Select(b => MainPackagePattern(b.Main)).ToList();
            var listed = await go.ListAsync(group.Key, mains, cancellationToken).ConfigureAwait(false);
            foreach (var (entry, package) in group.Zip(listed))
            {
                if (package.Error is not null || package.ImportPath.Length == 0)
                {
                    throw new KoException(KoErrorCodes.PackageNotFound, $"{plan.Config.Path}: {entry.Describe()}: main '{entry.Main ?? "."}' in {group.Key} is not a package: {package.Error}. Fix dir/main.");
                }

                result.TryAdd(package.ImportPath, entry);
            }
        }

        return result;
    }

    private static string MainPackagePattern(string? main)
    {
        var m = string.IsNullOrWhiteSpace(main) ? "." : main.Trim();
        if (m.EndsWith(".go", StringComparison.Ordinal))
        {
            // A .go file names its package's directory, which is what is built.
            m = Path.GetDirectoryName(m) is { Length: > 0 } d ? d : ".";
        }

        return m == "." || m.StartsWith("./", StringComparison.Ordinal) || m.StartsWith("../", StringComparison.Ordinal) || Path.IsPathRooted(m) ? m : "./" + m;
    }

    /// <summary>go list for the patterns, one call per directory (a pattern naming a build entry's import path runs in its dir), in order.</summary>
    private static async Task<IReadOnlyList<GoPackage>> ListPatternsAsync(GoTool go, BuildPlan plan, IReadOnlyList<string> patterns, IReadOnlyDictionary<string, KoBuildConfig> entries, CancellationToken cancellationToken)
    {
        var dirs = patterns.Select(p => plan.DirectoryOf(entries.GetValueOrDefault(p))).ToList();
        if (dirs.All(d => d == plan.WorkingDirectory))
        {
            return await go.ListAsync(plan.WorkingDirectory, patterns, cancellationToken).ConfigureAwait(false);
        }

        var result = new GoPackage[patterns.Count];
        foreach (var group in Enumerable.Range(0, patterns.Count).GroupBy(i => dirs[i]))
        {
            var listed = await go.ListAsync(group.Key, group.Select(i => patterns[i]).ToList(), cancellationToken).ConfigureAwait(false);
            foreach (var (i, package) in group.Zip(listed))
            {
                result[i] = package;
            }
        }

        return result;
    }

    private void Count(AppLayers.LayerOutcome result, string what, Counters stats)
    {
        _progress?.Report(new KoProgress("layer", what, 1, 1));
        if (result.FromCache)
        {
            Interlocked.Increment(ref stats.LayersReused);
            _logger.LogDebug("Reused cached layer {Digest} for {Layer}: unchanged input, no tar, gzip or hashing", result.Layer.Descriptor.Digest, what);
        }
        else
        {
            Interlocked.Increment(ref stats.LayersWritten);
            _logger.LogDebug("Wrote layer {Digest} ({Size} bytes) for {Layer}", result.Layer.Descriptor.Digest, result.Layer.Descriptor.Size, what);
        }
    }

    private RegistryOptions RegistryOptionsFor(BuildPlan plan) => RetryHandler.FromEnvironment(new RegistryOptions
    {
        Insecure = plan.InsecureRegistry,
        Environment = plan.Environment,
        Credentials = new Ko.Engine.Registry.Credentials.DockerCredentials(plan.Environment, _logger),
        Logger = _logger,
        Progress = _progress,
    });


    private async Task WriteOutputsAsync(BuildPlan plan, IReadOnlyList<BuiltImage> built, IReadOnlyDictionary<BuiltImage, IReadOnlyList<SbomArtifact>> sboms, CancellationToken cancellationToken)
    {
        var tagged = built.Select(b => new TaggedImage(b, plan.Tags)).ToList();
        var allSboms = built.SelectMany(b => sboms.GetValueOrDefault(b, [])).ToList();
        if (plan.SbomDirectory is not null)
        {
            foreach (var sbom in allSboms)
            {
                var file = Path.Combine(plan.SbomDirectory, sbom.FileName);
                await AtomicOutput.WriteFileAsync(file, (st, ct) => st.WriteAsync(sbom.Document, ct).AsTask(), cancellationToken).ConfigureAwait(false);
            }

            _logger.LogInformation("Wrote {Count} SBOM(s) to {Directory}", allSboms.Count, plan.SbomDirectory);
        }

        if (plan.OciLayoutPath is not null)
        {
            await OciLayoutWriter.WriteAsync(plan.OciLayoutPath, tagged, cancellationToken, allSboms, plan.SbomExplicit).ConfigureAwait(false);
            _progress?.Report(new KoProgress("write", plan.OciLayoutPath, 1, 1));
            _logger.LogInformation("Wrote OCI layout {Path}", plan.OciLayoutPath);
        }

        if (plan.OciArchivePath is not null)
        {
            await OciArchiveWriter.WriteAsync(plan.OciArchivePath, tagged, cancellationToken, allSboms, plan.SbomExplicit).ConfigureAwait(false);
            _progress?.Report(new KoProgress("write", plan.OciArchivePath, 1, 1));
            _logger.LogInformation("Wrote OCI archive {Path}", plan.OciArchivePath);
        }

        if (plan.TarballPath is not null)
        {
            var host = Platform.Host();
            var entries = new List<(IImage, IReadOnlyList<string>)>();
            foreach (var b in built)
            {
                var image = b.Image ?? b.Index!.Children.FirstOrDefault(i => host.Accepts(i.Platform)) ?? b.Index!.Children[0];
                if (b.Index is not null)
                {
                    _logger.LogWarning("A docker-archive holds one platform: {Tarball} gets the {Platform} image of {ImportPath}", plan.TarballPath, image.Platform, b.ImportPath);
                }

                entries.Add((image, plan.Tags.Select(t => $"{b.Name}:{t}").ToList()));
            }

            await DockerArchiveWriter.WriteAsync(plan.TarballPath, entries, cancellationToken).ConfigureAwait(false);
            _progress?.Report(new KoProgress("write", plan.TarballPath, 1, 1));
            _logger.LogInformation("Wrote docker-archive {Path}", plan.TarballPath);
        }
    }

    /// <summary>The SBOM artifacts of every built image (none with <c>--sbom=none</c>), from the build info read during layering.</summary>
    private IReadOnlyDictionary<BuiltImage, IReadOnlyList<SbomArtifact>> MakeSboms(BuildPlan plan, IReadOnlyList<BuiltImage> built, ConcurrentDictionary<Digest, GoBuildInfo> buildInfos)
    {
        var result = new Dictionary<BuiltImage, IReadOnlyList<SbomArtifact>>();
        if (plan.Sbom == SbomFormat.None)
        {
            return result;
        }

        foreach (var b in built)
        {
            result[b] = SbomArtifact.For(plan.Sbom, b, (image, _) => buildInfos[image.Digest]);
        }

        _logger.LogDebug("{Count} {Format} SBOM(s) made", result.Values.Sum(v => v.Count), plan.Sbom);
        return result;
    }

    private static async Task Quietly(params IEnumerable<Task> tasks)
    {
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Only the first failure is reported; these were stopped because of it.
        }
    }

    private static async Task WhenAllFailFastAsync(IReadOnlyList<Task> tasks, CancellationTokenSource onFailure)
    {
        var pending = tasks.ToList();
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending).ConfigureAwait(false);
            pending.Remove(done);
            if (done.IsFaulted || done.IsCanceled)
            {
                await onFailure.CancelAsync().ConfigureAwait(false);
                try
                {
                    await Task.WhenAll(pending).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // The first failure is the one reported.
                }

                await done.ConfigureAwait(false);
            }
        }
    }

    /// <summary>Runs an action when disposed, for clean-up declared next to what it cleans up.</summary>
    private sealed class Deferred(Func<Task> action) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await action().ConfigureAwait(false);
    }

    private sealed class Counters
    {
        public int GoBuilds;
        public int LayersWritten;
        public int LayersReused;
    }
}
