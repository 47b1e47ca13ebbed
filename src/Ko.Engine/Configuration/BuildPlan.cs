using System.Globalization;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using Ko.Engine.Publishing;

namespace Ko.Engine.Configuration;

/// <summary>
/// The one immutable plan a build follows, made from the caller's options, the environment and ko's defaults. Every
/// precedence rule lives in <see cref="Create"/> and nowhere else.
/// </summary>
internal sealed record BuildPlan
{
    public required IReadOnlyList<string> ImportPaths { get; init; }

    public required string WorkingDirectory { get; init; }

    /// <summary>Explicit platforms; empty means "the default" (host, or the base's platform for a single-image base).</summary>
    public required IReadOnlyList<Platform> Platforms { get; init; }

    public required bool AllPlatforms { get; init; }

    public required string BaseImage { get; init; }

    public required string Repository { get; init; }

    public required IReadOnlyList<string> Tags { get; init; }

    public required bool TagOnly { get; init; }

    public required bool Push { get; init; }

    /// <summary>Load into the local docker or podman instead of pushing (<c>--local</c>, or a <c>ko.local</c> repository).</summary>
    public bool Local { get; init; }

    public bool InsecureRegistry { get; init; }

    public required NamingStrategy Naming { get; init; }

    public string? OciLayoutPath { get; init; }

    /// <summary><c>--oci-layout-path</c> as the caller wrote it (ko prints <c>&lt;path&gt;@sha256:…</c> with it when nothing is pushed).</summary>
    public string? OciLayoutPathAsGiven { get; init; }

    /// <summary>True when the repository came from the caller or <c>KO_DOCKER_REPO</c>, false when <c>ko.local</c> stands in for none.</summary>
    public bool RepositoryGiven { get; init; } = true;

    public string? OciArchivePath { get; init; }

    public string? TarballPath { get; init; }

    public string? ImageRefsPath { get; init; }

    /// <summary>The SBOM format (default SPDX); <see cref="Sbom.SbomFormat.None"/> makes none.</summary>
    public Sbom.SbomFormat Sbom { get; init; } = Ko.Engine.Sbom.SbomFormat.Spdx;

    /// <summary>True when the caller chose the SBOM format (OCI layouts then list the SBOM artifacts in index.json).</summary>
    public bool SbomExplicit { get; init; }

    /// <summary>Where SBOM files are written, if anywhere.</summary>
    public string? SbomDirectory { get; init; }

    /// <summary>How pushed SBOMs are attached.</summary>
    public Sbom.SbomAttachment SbomAttach { get; init; }

    /// <summary>The signing key file (<c>KoBuildOptions.SignKey</c> &gt; <c>KO_SIGN_KEY</c>), resolved; null means no signing.</summary>
    public string? SignKey { get; init; }

    /// <summary>Annotations for each signature's <c>optional</c> section.</summary>
    public IReadOnlyDictionary<string, string> SignAnnotations { get; init; } = new Dictionary<string, string>();

    /// <summary>Attach each SBOM as a signed attestation too.</summary>
    public bool AttestSbom { get; init; }

    /// <summary>How the kodata and binary layers are compressed (<c>--compression</c>): gzip (the default) or zstd.</summary>
    public Layers.LayerCompression Compression { get; init; }

    /// <summary>Where the build record goes (<c>--build-record</c>); null writes none.</summary>
    public string? BuildRecordPath { get; init; }

    public required IReadOnlyDictionary<string, string> Labels { get; init; }

    public required IReadOnlyDictionary<string, string> Annotations { get; init; }

    public string? User { get; init; }

    public required IReadOnlyList<string> BuildFlags { get; init; }

    public required int Jobs { get; init; }

    public required string CacheDirectory { get; init; }

    public required IReadOnlyDictionary<string, string?> Environment { get; init; }

    /// <summary>Image <c>created</c> and the binary history entry, from <c>SOURCE_DATE_EPOCH</c>; null keeps the base's created. The binary itself is never dated (ko).</summary>
    public DateTimeOffset? CreationTime { get; init; }

    /// <summary>kodata mtime, from <c>KO_DATA_DATE_EPOCH</c> only (as ko); null means 0.</summary>
    public DateTimeOffset? KodataCreationTime { get; init; }

    /// <summary>The <c>.ko.yaml</c> read (empty when there is none).</summary>
    public KoConfigFile Config { get; init; } = KoConfigFile.Empty;

    /// <summary>Warnings for the caller to log (unknown <c>.ko.yaml</c> keys).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The CLI's <c>--ldflags</c> (they beat the build's and the default <c>ldflags</c>).</summary>
    public IReadOnlyList<string> CliLdflags { get; init; } = [];

    /// <summary>The CLI's <c>--base-image</c>, which beats <c>baseImageOverrides</c>.</summary>
    public string? CliBaseImage { get; init; }

    /// <summary>What <c>{{.Date}}</c>/<c>{{.Timestamp}}</c> show: <c>SOURCE_DATE_EPOCH</c>, else the time the plan was made.</summary>
    public DateTimeOffset TemplateTime { get; init; } = DateTimeOffset.UtcNow;

    public const string DefaultBaseImage = "embedded:static";
    public const string LocalRepository = "ko.local";

    public static BuildPlan Create(KoBuildOptions options)
    {
        var env = options.Environment ?? ProcessEnvironment();
        string? Env(string name) => env.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;

        var (importPaths, workingDirectory) = ReadPaths(options);
        var configPath = KoConfigFile.Locate(workingDirectory, Env("KO_CONFIG_PATH"));
        var config = configPath is null ? KoConfigFile.Empty : KoConfigFile.Load(configPath);

        var (platforms, all) = ReadPlatforms(options, config, Env);

        var (repository, repositoryGiven, push, local) = ReadRepository(options, Env);

        var tags = ReadTags(options);

        var jobs = options.Jobs > 0 ? options.Jobs : System.Environment.ProcessorCount;
        var cache = options.CacheDirectory ?? Layers.ContentStore.DefaultRoot(env);

        var creation = ParseEpoch(Env("SOURCE_DATE_EPOCH"), "SOURCE_DATE_EPOCH");
        // ko (pkg/commands/resolver.go) dates kodata by KO_DATA_DATE_EPOCH alone; SOURCE_DATE_EPOCH does not reach it.
        var kodataCreation = ParseEpoch(Env("KO_DATA_DATE_EPOCH"), "KO_DATA_DATE_EPOCH");

        var flags = ReadFlags(options, config, Env("GOFLAGS"));

        var signKey = ReadSignKey(options, Env("KO_SIGN_KEY"), workingDirectory);

        return new BuildPlan
        {
            ImportPaths = importPaths,
            WorkingDirectory = workingDirectory,
            Platforms = platforms,
            AllPlatforms = all,
            BaseImage = options.BaseImage ?? Env("KO_DEFAULTBASEIMAGE") ?? config.DefaultBaseImage ?? DefaultBaseImage,
            CliBaseImage = options.BaseImage,
            Config = config,
            Warnings = config.Warnings,
            CliLdflags = options.Ldflags,
            TemplateTime = creation ?? DateTimeOffset.UtcNow,
            Repository = repository,
            Tags = tags,
            TagOnly = options.TagOnly,
            Push = push,
            Local = local,
            RepositoryGiven = repositoryGiven,
            InsecureRegistry = options.InsecureRegistry,
            Naming = options.Naming,
            OciLayoutPath = Resolve(options.OciLayoutPath, workingDirectory),
            OciLayoutPathAsGiven = string.IsNullOrWhiteSpace(options.OciLayoutPath) ? null : options.OciLayoutPath,
            OciArchivePath = Resolve(options.OciArchivePath, workingDirectory),
            TarballPath = Resolve(options.TarballPath, workingDirectory),
            ImageRefsPath = Resolve(options.ImageRefsPath, workingDirectory),
            Sbom = options.Sbom ?? Ko.Engine.Sbom.SbomFormat.Spdx,
            SbomExplicit = options.Sbom is not null,
            SbomDirectory = Resolve(options.SbomDirectory, workingDirectory),
            SbomAttach = options.SbomAttach,
            SignKey = signKey,
            SignAnnotations = options.SignAnnotations,
            AttestSbom = options.AttestSbom,
            Compression = options.Compression,
            BuildRecordPath = options.BuildRecordPath,
            Labels = options.Labels,
            Annotations = options.Annotations,
            User = options.User,
            BuildFlags = flags,
            Jobs = jobs,
            CacheDirectory = Path.GetFullPath(cache, workingDirectory),
            Environment = env,
            CreationTime = creation,
            KodataCreationTime = kodataCreation,
        };
    }

    private static (List<string> ImportPaths, string WorkingDirectory) ReadPaths(KoBuildOptions options)
    {
        var importPaths = options.ImportPaths.Where(p => !string.IsNullOrWhiteSpace(p)).Select(NormalizeImportPath).Distinct(StringComparer.Ordinal).ToList();
        if (importPaths.Count == 0)
        {
            throw new KoException(KoErrorCodes.InvalidOption, "no import path was given: name at least one, for example ./cmd/app or ko://example.com/app/cmd/app.");
        }

        var workingDirectory = Path.GetFullPath(options.WorkingDirectory ?? Directory.GetCurrentDirectory());
        if (!Directory.Exists(workingDirectory))
        {
            throw new KoException(KoErrorCodes.InvalidOption, $"the working directory {workingDirectory} does not exist.");
        }

        return (importPaths, workingDirectory);
    }

    private static string? ReadSignKey(KoBuildOptions options, string? koSignKey, string workingDirectory)
    {
        var signKey = Resolve(options.SignKey ?? koSignKey, workingDirectory);
        if (options.AttestSbom && (signKey is null || options.Sbom == Ko.Engine.Sbom.SbomFormat.None))
        {
            throw new KoException(KoErrorCodes.InvalidOption, signKey is null
                ? "--attest-sbom signs the SBOM as an attestation and needs a signing key: pass --sign-key FILE or set KO_SIGN_KEY."
                : "--attest-sbom attests the SBOM, but --sbom none makes none: choose spdx or cyclonedx, or drop --attest-sbom.");
        }

        return signKey;
    }

    // Platforms: --platform > KO_DEFAULTPLATFORMS > defaultPlatforms > GOOS/GOARCH/GOARM > the default.
    private static (List<Platform> Platforms, bool All) ReadPlatforms(KoBuildOptions options, KoConfigFile config, Func<string, string?> Env)
    {
        var platformTexts = SplitList(options.Platforms);
        var platformSource = "--platform";
        if (platformTexts.Count == 0 && Env("KO_DEFAULTPLATFORMS") is { } envPlatforms)
        {
            platformTexts = SplitList([envPlatforms]);
            platformSource = "KO_DEFAULTPLATFORMS";
        }

        if (platformTexts.Count == 0 && config.DefaultPlatforms.Count > 0)
        {
            platformTexts = SplitList(config.DefaultPlatforms);
            platformSource = $"defaultPlatforms in {config.Path}";
        }

        var goPlatformVariables = new[] { "GOOS", "GOARCH", "GOARM" }.Where(n => Env(n) is not null).ToList();
        if (goPlatformVariables.Count > 0)
        {
            if (platformTexts.Count > 0)
            {
                throw new KoException(KoErrorCodes.PlatformConflict, $"{string.Join("/", goPlatformVariables)} and {platformSource} were both set: choose the platforms with one of them, and unset {string.Join(" and ", goPlatformVariables)} (or drop {platformSource}).");
            }

            var arch = Env("GOARCH") ?? Platform.Host().Architecture;
            var variant = arch == "arm" && Env("GOARM") is { } goarm ? "/v" + goarm : string.Empty;
            platformTexts = [$"{Env("GOOS") ?? "linux"}/{arch}{variant}"];
        }

        var all = platformTexts.Any(p => p == "all");
        if (all && platformTexts.Count > 1)
        {
            throw new KoException(KoErrorCodes.InvalidPlatform, "'all' cannot be combined with other platforms.");
        }

        var platforms = all ? [] : platformTexts.Select(Platform.Parse).Distinct().ToList();
        foreach (var p in platforms.Where(p => p.Os != "linux"))
        {
            throw new KoException(KoErrorCodes.InvalidPlatform, $"platform {p}: only linux images are supported so far.");
        }

        return (platforms, all);
    }

    private static (string Repository, bool Given, bool Push, bool Local) ReadRepository(KoBuildOptions options, Func<string, string?> Env)
    {
        var push = options.Push;
        var repository = options.Repository ?? Env("KO_DOCKER_REPO");

        // As ko (pkg/commands/resolver.go makePublisher): --local loads instead of pushing and names images under
        // KO_DOCKER_REPO when it is set (the daemon's "local domain" is then that repository), else under ko.local;
        // a ko.local repository means --local when pushing.
        var repositoryGiven = repository is not null;
        var local = options.Local || (push && repository is not null && IsLocalRepository(repository));
        if (local)
        {
            repository ??= LocalRepository;
            push = false;
        }

        if (repository is null)
        {
            if (push)
            {
                throw new KoException(KoErrorCodes.MissingRepository, "KO_DOCKER_REPO is not set: set it (or the repository option) to the registry repository to push to, or pass --push=false to build without pushing.");
            }

            repository = LocalRepository;
        }

        repository = repository.TrimEnd('/');
        if (repository.Length == 0 || repository.Any(char.IsWhiteSpace))
        {
            throw new KoException(KoErrorCodes.InvalidOption, $"repository '{References.ImageReference.Redact(repository)}' is not a valid image repository.");
        }

        // Checked whether or not this run pushes: the name ends up in image names, layouts and logs.
        if (References.ImageReference.Redact(repository) != repository)
        {
            throw new KoException(KoErrorCodes.InvalidOption, $"KO_DOCKER_REPO '{References.ImageReference.Redact(repository)}' holds a user name or password; credentials never belong in a repository name. Store them with `dotnet ko login REGISTRY --username USER --password-stdin` (or docker login) and set KO_DOCKER_REPO to REGISTRY/REPOSITORY.");
        }

        return (repository, repositoryGiven, push, local);
    }

    private static List<string> ReadTags(KoBuildOptions options)
    {
        // As ko (pkg/commands/resolver.go: po.Tags = unique(po.Tags)): "-t a,a" tags once.
        var tags = SplitList(options.Tags).Distinct(StringComparer.Ordinal).ToList();
        if (tags.Count == 0)
        {
            tags = ["latest"];
        }

        foreach (var tag in tags.Where(t => !IsValidTag(t)))
        {
            throw new KoException(KoErrorCodes.InvalidOption, $"tag '{tag}' is not valid: a tag is up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'.");
        }

        if (options.TagOnly && tags.Count != 1)
        {
            throw new KoException(KoErrorCodes.InvalidOption, "--tag-only needs exactly one tag.");
        }

        return tags;
    }

    // The caller's flags and the config's defaults; -toolexec is refused wherever it is written.
    private static List<string> ReadFlags(KoBuildOptions options, KoConfigFile config, string? goflags)
    {
        var flags = options.BuildFlags.ToList();
        RefuseToolexec(flags, "the build flags");
        if (options.Ldflags.Count > 0)
        {
            flags.Add("-ldflags=" + string.Join(' ', options.Ldflags));
        }

        RefuseToolexec(config.DefaultFlags ?? [], $"defaultFlags in {config.Path}");
        // An entry's own -toolexec is refused when that entry is built (SettingsAsync), as ko refuses it in its build
        // step (pkg/build/gobuild.go): an entry nobody builds does not make the whole .ko.yaml unusable.
        foreach (var b in config.Builds)
        {
            Layers.FileCapabilities.Parse(b.LinuxCapabilities, $"{b.Describe()}.linux_capabilities in {config.Path}");
        }

        if (goflags is not null)
        {
            RefuseToolexec(goflags.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries), "GOFLAGS");
        }

        return flags;
    }

    /// <summary>Whether a build's settings depend on its import path (a <c>builds</c> entry or a base override may match).</summary>
    public bool SettingsDependOnImportPath => Config.Builds.Count > 0 || Config.BaseImageOverrides.Count > 0;

    /// <summary>The base image of an import path: <c>--base-image</c> &gt; <c>baseImageOverrides</c> (lower-cased import path) &gt; the default.</summary>
    public string BaseImageFor(string? importPath) =>
        CliBaseImage ?? (importPath is not null && Config.BaseImageOverrides.TryGetValue(importPath.ToLowerInvariant(), out var b) ? b : BaseImage);

    /// <summary>
    /// The <c>builds</c> entry a local path (<c>./caps/cmd</c>, relative to the working directory, or absolute) names
    /// when the entry's <c>dir</c> + <c>main</c> is that directory, and the pattern to use in the entry's <c>dir</c>
    /// (<c>.</c> or <c>./sub</c>). ko matches such a path to the entry even when its <c>dir</c> is another module;
    /// null when the pattern is not a local path or no entry names its directory.
    /// </summary>
    public (KoBuildConfig Entry, string Directory, string Pattern)? LocalPathEntry(string pattern)
    {
        var p = pattern.Trim();
        if (!(p == "." || p.StartsWith("./", StringComparison.Ordinal) || p.StartsWith("../", StringComparison.Ordinal) || Path.IsPathRooted(p)))
        {
            return null;
        }

        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(p, WorkingDirectory));
        foreach (var entry in Config.Builds)
        {
            var dir = DirectoryOf(entry);
            var main = string.IsNullOrWhiteSpace(entry.Main) ? "." : entry.Main.Trim();
            if (main.EndsWith(".go", StringComparison.Ordinal))
            {
                main = Path.GetDirectoryName(main) is { Length: > 0 } d ? d : ".";
            }

            if (Path.TrimEndingDirectorySeparator(Path.GetFullPath(main, dir)) == target)
            {
                var relative = Path.GetRelativePath(dir, target).Replace(Path.DirectorySeparatorChar, '/');
                return (entry, dir, relative == "." ? "." : "./" + relative);
            }
        }

        return null;
    }

    /// <summary>The directory a <c>builds</c> entry's <c>go list</c>/<c>go build</c> run in (<c>dir</c>, relative to the working directory).</summary>
    public string DirectoryOf(KoBuildConfig? entry) =>
        entry?.Dir is { Length: > 0 } dir ? Path.GetFullPath(dir, WorkingDirectory) : WorkingDirectory;

    /// <summary>
    /// One import path's build and image settings, with every precedence rule as ko has it (and the image keys ko
    /// lacks): go env = defaults &lt; process environment &lt; build <c>env</c> (else <c>defaultEnv</c>); flags = build
    /// <c>flags</c> (else <c>defaultFlags</c>) then the caller's flags; ldflags = <c>--ldflags</c> else build
    /// <c>ldflags</c> else <c>defaultLdflags</c>; labels and annotations = defaults &lt; build &lt; CLI; user, entrypoint
    /// and args = CLI &gt; build &gt; default; image env = default then build (a later KEY wins). Templates are expanded.
    /// </summary>
    public async Task<BuildSettings> SettingsAsync(KoBuildConfig? entry, string? importPath, TemplateContext templates, CancellationToken cancellationToken)
    {
        var file = Config.Path ?? ".ko.yaml";
        var scope = entry?.Describe();
        async Task<List<string>> ExpandAll(IReadOnlyList<string>? values, string key)
        {
            var result = new List<string>();
            foreach (var v in values ?? [])
            {
                result.Add(await templates.ExpandAsync(v, $"{file}: {key}", cancellationToken).ConfigureAwait(false));
            }

            return result;
        }

        async Task<Dictionary<string, string>> ExpandMap(IReadOnlyDictionary<string, string>? low, string lowKey, IReadOnlyDictionary<string, string>? high, string highKey, IReadOnlyDictionary<string, string> cli)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (map, key) in new[] { (low, lowKey), (high, highKey) })
            {
                foreach (var (k, v) in map ?? new Dictionary<string, string>())
                {
                    result[k] = await templates.ExpandAsync(v, $"{file}: {key}.{k}", cancellationToken).ConfigureAwait(false);
                }
            }

            foreach (var (k, v) in cli)
            {
                result[k] = v;
            }

            return result;
        }

        var (envValues, envKey) = entry?.Env is { } be ? (be, $"{scope}.env") : (Config.DefaultEnv, "defaultEnv");
        var (flagValues, flagKey) = entry?.Flags is { } bf ? (bf, $"{scope}.flags") : (Config.DefaultFlags, "defaultFlags");
        var (ldValues, ldKey) = entry?.Ldflags is { } bl ? (bl, $"{scope}.ldflags") : (Config.DefaultLdflags, "defaultLdflags");

        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var kv in await ExpandAll(envValues, envKey).ConfigureAwait(false))
        {
            var eq = kv.IndexOf('=', StringComparison.Ordinal);
            env[kv[..eq]] = kv[(eq + 1)..];
        }

        // From here on templates see the build's env over the process's, as ko's createTemplateData.
        templates = templates.WithBuildEnvironment(env);
        if (env.TryGetValue("GOFLAGS", out var goflags) && goflags is not null)
        {
            RefuseToolexec(goflags.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries), $"GOFLAGS in {envKey} of {file}");
        }

        var flags = await ExpandAll(flagValues, flagKey).ConfigureAwait(false);
        RefuseToolexec(flags, $"{flagKey} in {file}");
        flags.AddRange(BuildFlags);
        if (CliLdflags.Count == 0 && ldValues is { Count: > 0 })
        {
            flags.Add("-ldflags=" + string.Join(' ', await ExpandAll(ldValues, ldKey).ConfigureAwait(false)));
        }

        var imageEnv = await ExpandAll(Config.DefaultImageEnv, "defaultImageEnv").ConfigureAwait(false);
        imageEnv.AddRange(await ExpandAll(entry?.ImageEnv, $"{scope}.imageEnv").ConfigureAwait(false));
        var entrypoint = entry?.Entrypoint is { } ep ? await ExpandAll(ep, $"{scope}.entrypoint").ConfigureAwait(false)
            : Config.DefaultEntrypoint is { } dep ? await ExpandAll(dep, "defaultEntrypoint").ConfigureAwait(false) : null;
        var args = entry?.Args is { } a ? await ExpandAll(a, $"{scope}.args").ConfigureAwait(false)
            : Config.DefaultArgs is { } da ? await ExpandAll(da, "defaultArgs").ConfigureAwait(false) : null;
        var user = User ?? (entry?.User is { } bu ? await templates.ExpandAsync(bu, $"{file}: {scope}.user", cancellationToken).ConfigureAwait(false)
            : Config.DefaultUser is { } du ? await templates.ExpandAsync(du, $"{file}: defaultUser", cancellationToken).ConfigureAwait(false) : null);

        return new BuildSettings
        {
            Directory = DirectoryOf(entry),
            Environment = env,
            Flags = flags,
            Capabilities = entry?.LinuxCapabilities ?? [],
            BaseImage = BaseImageFor(importPath),
            Labels = await ExpandMap(Config.DefaultLabels, "defaultLabels", entry?.Labels, $"{scope}.labels", Labels).ConfigureAwait(false),
            Annotations = await ExpandMap(Config.DefaultAnnotations, "defaultAnnotations", entry?.Annotations, $"{scope}.annotations", Annotations).ConfigureAwait(false),
            User = user,
            ImageEnv = imageEnv,
            Entrypoint = entrypoint,
            Args = args,
        };
    }

    private static void RefuseToolexec(IEnumerable<string> flags, string where)
    {
        foreach (var f in flags)
        {
            var name = f.TrimStart('-');
            if (f.StartsWith('-') && (name == "toolexec" || name.StartsWith("toolexec=", StringComparison.Ordinal)))
            {
                throw new KoException(KoErrorCodes.ToolexecRefused, $"-toolexec in {where} is refused: it runs an arbitrary program for every compile step. Remove it.");
            }
        }
    }

    /// <summary>True for <c>ko.local</c> and names under it: the local daemon's domain, never pushed to.</summary>
    public static bool IsLocalRepository(string repository) =>
        repository.TrimEnd('/') is var r && (r == LocalRepository || r.StartsWith(LocalRepository + "/", StringComparison.Ordinal));

    /// <summary>Strips <c>ko://</c>; import paths and relative paths are otherwise kept as given.</summary>
    public static string NormalizeImportPath(string path)
    {
        var p = path.Trim();
        return p.StartsWith("ko://", StringComparison.Ordinal) ? p["ko://".Length..] : p;
    }

    public static IReadOnlyDictionary<string, string?> ProcessEnvironment()
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            result[(string)e.Key] = (string?)e.Value;
        }

        return result;
    }

    private static List<string> SplitList(IEnumerable<string> values) =>
        values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    private static string? Resolve(string? path, string workingDirectory) =>
        string.IsNullOrWhiteSpace(path) ? null : Path.GetFullPath(path, workingDirectory);

    internal static bool IsValidTag(string tag) =>
        tag.Length is > 0 and <= 128 && tag[0] != '.' && tag[0] != '-' && tag.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    private static DateTimeOffset? ParseEpoch(string? value, string name)
    {
        if (value is null)
        {
            return null;
        }

        if (!long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) || seconds < 0 || seconds > 253402300799)
        {
            throw new KoException(KoErrorCodes.InvalidOption, $"{name}='{value}' is not a number of seconds since 1970-01-01; set it to an integer such as $(git log -1 --format=%ct).");
        }

        return DateTimeOffset.FromUnixTimeSeconds(seconds);
    }
}

/// <summary>One import path's build and image settings, decided by <see cref="BuildPlan.SettingsAsync"/>.</summary>
internal sealed record BuildSettings
{
    /// <summary>Where <c>go build</c> runs (a <c>builds</c> entry's <c>dir</c>, else the working directory).</summary>
    public required string Directory { get; init; }

    /// <summary>Variables over the process environment for <c>go build</c> (build <c>env</c>, else <c>defaultEnv</c>).</summary>
    public required IReadOnlyDictionary<string, string?> Environment { get; init; }

    /// <summary><c>go build</c> flags, with at most one <c>-ldflags=</c>.</summary>
    public required IReadOnlyList<string> Flags { get; init; }

    /// <summary>Linux capabilities for the binary (PAX record <c>SCHILY.xattr.security.capability</c>).</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];

    public required string BaseImage { get; init; }

    public required IReadOnlyDictionary<string, string> Labels { get; init; }

    public required IReadOnlyDictionary<string, string> Annotations { get; init; }

    public string? User { get; init; }

    /// <summary>KEY=VALUE entries added to the image config's Env (a KEY already there is replaced).</summary>
    public IReadOnlyList<string> ImageEnv { get; init; } = [];

    /// <summary>The image's entrypoint; null keeps ko's <c>["/ko-app/&lt;name&gt;"]</c>.</summary>
    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary>The image's Cmd (arguments); null leaves none, as ko.</summary>
    public IReadOnlyList<string>? Args { get; init; }
}
