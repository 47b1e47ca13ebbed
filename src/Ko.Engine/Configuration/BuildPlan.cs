using System.Globalization;
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

    public string? OciArchivePath { get; init; }

    public string? TarballPath { get; init; }

    public string? ImageRefsPath { get; init; }

    public required IReadOnlyDictionary<string, string> Labels { get; init; }

    public required IReadOnlyDictionary<string, string> Annotations { get; init; }

    public string? User { get; init; }

    public required IReadOnlyList<string> BuildFlags { get; init; }

    public required int Jobs { get; init; }

    public required string CacheDirectory { get; init; }

    public required IReadOnlyDictionary<string, string?> Environment { get; init; }

    /// <summary>Image <c>created</c> and binary mtime, from <c>SOURCE_DATE_EPOCH</c>; null keeps the base's created and uses mtime 0.</summary>
    public DateTimeOffset? CreationTime { get; init; }

    /// <summary>kodata mtime, from <c>KO_DATA_DATE_EPOCH</c>, else <see cref="CreationTime"/>.</summary>
    public DateTimeOffset? KodataCreationTime { get; init; }

    public const string DefaultBaseImage = "embedded:static";
    public const string LocalRepository = "ko.local";

    public static BuildPlan Create(KoBuildOptions options)
    {
        var env = options.Environment ?? ProcessEnvironment();
        string? Env(string name) => env.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;

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

        var platformTexts = SplitList(options.Platforms);
        if (platformTexts.Count == 0 && Env("KO_DEFAULTPLATFORMS") is { } envPlatforms)
        {
            platformTexts = SplitList([envPlatforms]);
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

        var push = options.Push;
        var repository = options.Repository ?? Env("KO_DOCKER_REPO");

        // As ko: --local names images under ko.local (whatever KO_DOCKER_REPO says) and loads instead of pushing;
        // a ko.local repository means --local when pushing.
        var local = options.Local || (push && repository is not null && IsLocalRepository(repository));
        if (local)
        {
            repository = repository is not null && IsLocalRepository(repository) ? repository : LocalRepository;
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
            throw new KoException(KoErrorCodes.InvalidOption, $"repository '{repository}' is not a valid image repository.");
        }

        var tags = SplitList(options.Tags);
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

        var jobs = options.Jobs > 0 ? options.Jobs : System.Environment.ProcessorCount;
        var cache = options.CacheDirectory ?? Layers.ContentStore.DefaultRoot(env);

        var creation = ParseEpoch(Env("SOURCE_DATE_EPOCH"), "SOURCE_DATE_EPOCH");
        var kodataCreation = ParseEpoch(Env("KO_DATA_DATE_EPOCH"), "KO_DATA_DATE_EPOCH") ?? creation;

        var flags = options.BuildFlags.ToList();
        if (options.Ldflags.Count > 0)
        {
            flags.Add("-ldflags=" + string.Join(' ', options.Ldflags));
        }

        return new BuildPlan
        {
            ImportPaths = importPaths,
            WorkingDirectory = workingDirectory,
            Platforms = platforms,
            AllPlatforms = all,
            BaseImage = options.BaseImage ?? Env("KO_DEFAULTBASEIMAGE") ?? DefaultBaseImage,
            Repository = repository,
            Tags = tags,
            TagOnly = options.TagOnly,
            Push = push,
            Local = local,
            InsecureRegistry = options.InsecureRegistry,
            Naming = options.Naming,
            OciLayoutPath = Resolve(options.OciLayoutPath, workingDirectory),
            OciArchivePath = Resolve(options.OciArchivePath, workingDirectory),
            TarballPath = Resolve(options.TarballPath, workingDirectory),
            ImageRefsPath = Resolve(options.ImageRefsPath, workingDirectory),
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

    private static bool IsValidTag(string tag) =>
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
