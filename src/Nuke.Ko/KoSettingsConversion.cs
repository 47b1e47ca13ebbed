using Ko.Engine;
using Ko.Engine.Configuration;
using Ko.Engine.Publishing;
using Ko.Engine.Sbom;

namespace Nuke.Ko;

/// <summary>Turns the immutable NUKE-style settings into the engine's options; the engine decides all precedence.</summary>
internal static class KoSettingsConversion
{
    public static KoBuildOptions ToBuildOptions(this KoImageSettings settings, IReadOnlyList<string> importPaths) => new()
    {
        ImportPaths = importPaths,
        WorkingDirectory = settings.WorkingDirectory,
        Platforms = settings.Platforms,
        BaseImage = settings.BaseImage,
        Repository = settings.Repository,
        Tags = settings.Tags,
        TagOnly = settings.TagOnly ?? false,
        Push = settings.Push ?? true,
        Local = settings.Local ?? false,
        InsecureRegistry = settings.InsecureRegistry ?? false,
        Naming = NamingOf(settings),
        OciLayoutPath = settings.OciLayoutPath,
        OciArchivePath = settings.OciArchivePath,
        TarballPath = settings.TarballPath,
        ImageRefsPath = settings.ImageRefsPath,
        Sbom = settings.Sbom.ToEngine(),
        SbomDirectory = settings.SbomDirectory,
        SbomAttach = settings.SbomAttach.ToEngine(),
        Labels = settings.Labels,
        Annotations = settings.Annotations,
        User = settings.User,
        BuildFlags = settings.BuildFlags,
        Ldflags = settings.Ldflags,
        Jobs = settings.Jobs ?? 0,
        CacheDirectory = settings.CacheDirectory,
        Environment = EnvironmentOf(settings),
        SignKey = settings.SignKey,
        SignAnnotations = settings.SignAnnotations,
        AttestSbom = settings.AttestSbom ?? false,
        Compression = settings.Compression.ToEngine(),
        BuildRecordPath = settings.BuildRecord, // build record
    };

    public static KoBuildOptions ToOptions(this KoBuildSettings settings) => settings.ToBuildOptions(settings.ImportPaths);

    public static KoResolveOptions ToOptions(this KoResolveSettings settings) => new()
    {
        Files = settings.Files,
        Recursive = settings.Recursive ?? false,
        Selector = settings.Selector,
        OutputPath = settings.OutputPath,
        // build record: resolve reads the record (or the images given) instead of writing one.
        Build = settings.ToBuildOptions([]) with { BuildRecordPath = null },
        BuildRecordPath = settings.BuildRecord,
        Images = settings.Images?.ToRecord(),
    };

    public static KoApplyOptions ToApplyOptions(this KoClusterSettings settings) => new()
    {
        Resolve = settings.ToOptions(),
        Kubeconfig = settings.Kubeconfig,
        Context = settings.Context,
        Namespace = settings.Namespace,
        ForceConflicts = settings is KoApplySettings { ForceConflicts: true },
        ContinueOnError = settings.ContinueOnError ?? false,
        UseKubectl = settings.UseKubectl ?? false,
        KubectlArguments = settings.KubectlArguments,
    };

    public static KoDeleteOptions ToOptions(this KoDeleteSettings settings) => new()
    {
        Files = settings.Files,
        Recursive = settings.Recursive ?? false,
        Selector = settings.Selector,
        Kubeconfig = settings.Kubeconfig,
        Context = settings.Context,
        Namespace = settings.Namespace,
        IgnoreNotFound = settings.IgnoreNotFound ?? true,
        Environment = EnvironmentOf(settings),
    };

    public static KoLoginOptions ToOptions(this KoLoginSettings settings) => new()
    {
        Registry = Required(settings.Registry, nameof(KoLoginSettings.Registry)),
        Username = Required(settings.Username, nameof(KoLoginSettings.Username)),
        Password = Required(settings.Password, nameof(KoLoginSettings.Password)),
        InsecureRegistry = settings.InsecureRegistry ?? false,
        Environment = EnvironmentOf(settings),
    };

    /// <summary>The engine's push options from NUKE push settings.</summary>
    /// <param name="settings">The settings.</param>
    public static KoPushOptions ToOptions(this KoPushSettings settings) => new()
    {
        Source = settings.Source is { Length: > 0 } source ? source : throw new KoTaskException(KoErrorCodes.InvalidOption, "KoPushSettings.Source is not set: call SetSource(\"oci:DIR\") (or oci-archive:FILE, docker-archive:FILE)."),
        To = settings.To,
        Repository = settings.Repository,
        Bare = settings.Bare ?? false,
        Tags = settings.Tags,
        InsecureRegistry = settings.InsecureRegistry ?? false,
        SbomAttach = settings.SbomAttach.ToEngine(),
        WorkingDirectory = settings.WorkingDirectory,
        ImageRefsPath = settings.ImageRefs,
        SignKey = settings.SignKey,
        SignAnnotations = settings.SignAnnotations,
        AttestSbom = settings.AttestSbom ?? false,
        Environment = EnvironmentOf(settings),
    };

    /// <summary>The process's environment with the settings' variables on top (null values remove); null when none are set.</summary>
    public static IReadOnlyDictionary<string, string?>? EnvironmentOf(KoSettings settings)
    {
        var goPath = GoPathOf(settings);
        if (settings.Environment.Count == 0 && goPath is null)
        {
            return null;
        }

        var merged = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            merged[(string)e.Key] = (string?)e.Value;
        }

        foreach (var (key, value) in settings.Environment)
        {
            if (value is null)
            {
                merged.Remove(key);
            }
            else
            {
                merged[key] = value;
            }
        }

        if (goPath is not null)
        {
            merged["KO_GO_PATH"] = goPath;
        }

        return merged;
    }

    /// <summary>
    /// The go binary as NUKE finds a tool: <see cref="KoSettings.ProcessToolPath"/>, else (when <c>KO_GO_PATH</c>, ko's own
    /// override, is unset) NUKE's <c>GO_EXE</c>; null leaves the engine's search (<c>KO_GO_PATH</c>, else the PATH).
    /// </summary>
    public static string? GoPathOf(KoSettings settings)
    {
        if (settings.ProcessToolPath is { Length: > 0 } tool)
        {
            return tool;
        }

        string? Variable(string name) => settings.Environment.TryGetValue(name, out var v) ? v : System.Environment.GetEnvironmentVariable(name);
        return string.IsNullOrWhiteSpace(Variable("KO_GO_PATH")) && Variable("GO_EXE") is { Length: > 0 } exe ? exe : null;
    }

    // The engine's one rule (as ko: PreserveImportPaths, then BaseImportPaths, then Bare), with a warning when several are set.
    private static NamingStrategy NamingOf(KoImageSettings settings)
    {
        bool preserve = settings.PreserveImportPaths == true, baseNames = settings.BaseImportPaths == true, bare = settings.Bare == true;
        if (NamingRule.Overridden(preserve, baseNames, bare, (nameof(KoImageSettings.PreserveImportPaths), nameof(KoImageSettings.BaseImportPaths), nameof(KoImageSettings.Bare))) is { } note)
        {
            Serilog.Log.Warning("{Note}", note);
        }

        return NamingRule.Choose(preserve, baseNames, bare);
    }

    private static string Required(string? value, string name) =>
        string.IsNullOrEmpty(value)
            ? throw new KoTaskException(KoErrorCodes.InvalidOption, $"KoLoginSettings.{name} is not set: call Set{name}(...).")
            : value;
}
