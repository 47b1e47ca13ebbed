using Ko.Engine.Configuration;
using Ko.Engine.Go;
using Ko.Engine.Images;
using Ko.Engine.Oci;
using Ko.Engine.Sources;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Pipeline;

/// <summary>
/// The packages stage: expands the patterns, resolves <c>.ko.yaml</c> <c>builds[]</c> entries, starts <c>go list</c>,
/// works out each pattern's settings, opens the bases and chooses the platforms. go list and the go builds overlap
/// when no setting depends on the import path: builds start from the patterns as given while go list checks them.
/// </summary>
internal static class PackageStage
{
    public static async Task<TargetPlan> PlanAsync(BuildRun run, CancellationToken cancellationToken)
    {
        var plan = run.Plan;
        var entries = plan.Config.Builds.Count > 0 ? await ResolveBuildEntriesAsync(run.Go, plan, cancellationToken).ConfigureAwait(false) : new Dictionary<string, KoBuildConfig>();
        var patterns = await run.Go.ExpandWildcardsAsync(plan.WorkingDirectory, plan.ImportPaths, cancellationToken).ConfigureAwait(false);
        var list = ListPatternsAsync(run.Go, plan, patterns, entries, cancellationToken);
        var bases = new Dictionary<string, Task<BaseImage>>(StringComparer.Ordinal);
        var settings = new BuildSettings[patterns.Count];
        var buildPatterns = patterns.ToArray();
        try
        {
            IReadOnlyList<GoPackage>? early = null;
            if (plan.SettingsDependOnImportPath)
            {
                early = await list.ConfigureAwait(false);
                Validate(early);
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
                    ? shared ??= await plan.SettingsAsync(entries.GetValueOrDefault(patterns[i]), null, run.Templates, cancellationToken).ConfigureAwait(false)
                    : await plan.SettingsAsync(entries.GetValueOrDefault(importPath!), importPath, run.Templates, cancellationToken).ConfigureAwait(false);
                var baseName = settings[i].BaseImage;
                if (!bases.ContainsKey(baseName))
                {
                    // On the thread pool: opening a base reads files before its first await, and the go builds
                    // started next must not wait for that.
                    bases[baseName] = Task.Run(() => BaseImageResolver.ResolveAsync(baseName, plan.WorkingDirectory, run.Store, run.Cache, () => run.Registry, cancellationToken, run.Logger), cancellationToken);
                }
            }

            var platforms = await PlatformsAsync(plan, bases, settings).ConfigureAwait(false);
            return new TargetPlan(patterns, buildPatterns, settings, platforms, bases, list);
        }
        catch
        {
            await new TargetPlan(patterns, buildPatterns, settings, [], bases, list).DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Every listed package must exist and be a <c>package main</c>.</summary>
    public static void Validate(IReadOnlyList<GoPackage> packages)
    {
        foreach (var package in packages)
        {
            if (package.Error is not null)
            {
                throw new KoException(KoErrorCodes.PackageNotFound, $"cannot build '{package.Pattern}': {package.Error}") { ImportPath = package.Pattern };
            }

            if (package.Name != "main")
            {
                throw new KoException(KoErrorCodes.NotMainPackage, $"'{package.Pattern}' ({package.ImportPath}) is package {package.Name}, not package main: ko builds commands only. Name the directory that holds func main.") { ImportPath = package.Pattern };
            }
        }
    }

    // The generated bases offer a fixed platform list, so their builds need not wait for the base's layer.
    private static async Task<IReadOnlyList<Platform>[]> PlatformsAsync(BuildPlan plan, IReadOnlyDictionary<string, Task<BaseImage>> bases, BuildSettings[] settings)
    {
        var byBase = new Dictionary<string, IReadOnlyList<Platform>>(StringComparer.Ordinal);
        foreach (var (name, task) in bases)
        {
            if (SyntheticBase.IsSynthetic(name))
            {
                byBase[name] = PlatformSelector.Choose(plan.Platforms, plan.AllPlatforms, SyntheticBase.Offered, multiPlatform: true, name);
            }
            else
            {
                var b = await task.ConfigureAwait(false);
                RefuseEntriesWithoutPlatform(plan, b);
                byBase[name] = PlatformSelector.Choose(plan.Platforms, plan.AllPlatforms, b.Platforms, b.IsMultiPlatform, b.Name);
            }
        }

        return settings.Select(s => byBase[s.BaseImage]).ToArray();
    }

    /// <summary>
    /// ko's platformMatcher (pkg/build/gobuild.go) matches a base index entry without a platform only for <c>all</c>,
    /// then builds it for its config's OS and architecture and lists the result without a platform, which no runtime
    /// can select. We refuse that case instead (a deliberate difference, in the README); for explicit platforms such
    /// entries are skipped, as in ko.
    /// </summary>
    private static void RefuseEntriesWithoutPlatform(BuildPlan plan, BaseImage b)
    {
        if (plan.AllPlatforms && b.EntriesWithoutPlatform is { Count: > 0 } bare)
        {
            throw new KoException(KoErrorCodes.InvalidPlatform, $"--platform all: the base image {b.Name} lists {bare.Count} image(s) without a platform ({bare[0]}{(bare.Count > 1 ? ", …" : string.Empty)}), which an index built on it could not name either. Name the platforms to build with --platform (entries without a platform are then skipped, as in ko), or fix the base's index.");
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

    /// <summary>
    /// go list for the patterns, one call per directory, in order: a pattern naming a build entry's import path runs in
    /// the entry's dir; so does a local path naming an entry's dir + main (<c>./app/cmd/foo</c> for <c>dir: ./app</c>,
    /// <c>main: ./cmd/foo</c>), as ko's pkg/build/gobuilds.go matches a local path to the builder whose dir holds it,
    /// even when that dir is another module. Each package keeps the pattern as the caller gave it.
    /// </summary>
    private static async Task<IReadOnlyList<GoPackage>> ListPatternsAsync(GoTool go, BuildPlan plan, IReadOnlyList<string> patterns, IReadOnlyDictionary<string, KoBuildConfig> entries, CancellationToken cancellationToken)
    {
        var where = patterns.Select(p => entries.TryGetValue(p, out var entry)
            ? (Dir: plan.DirectoryOf(entry), Pattern: p)
            : plan.LocalPathEntry(p) is { } local ? (Dir: local.Directory, Pattern: local.Pattern) : (Dir: plan.WorkingDirectory, Pattern: p)).ToList();
        if (Enumerable.Range(0, patterns.Count).All(i => where[i].Dir == plan.WorkingDirectory && where[i].Pattern == patterns[i]))
        {
            return await go.ListAsync(plan.WorkingDirectory, patterns, cancellationToken).ConfigureAwait(false);
        }

        var result = new GoPackage[patterns.Count];
        foreach (var group in Enumerable.Range(0, patterns.Count).GroupBy(i => where[i].Dir))
        {
            var listed = await go.ListAsync(group.Key, group.Select(i => where[i].Pattern).ToList(), cancellationToken).ConfigureAwait(false);
            foreach (var (i, package) in group.Zip(listed))
            {
                result[i] = package with { Pattern = patterns[i] };
            }
        }

        return result;
    }
}
