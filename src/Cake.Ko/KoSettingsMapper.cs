using Cake.Core;
using Cake.Core.IO;
using Ko.Engine.Configuration;
using Ko.Engine.Publishing;
using Ko.Engine.Sbom;

namespace Cake.Ko;

/// <summary>Turns the Cake settings into the engine's options: every setting is mapped here and nowhere else.</summary>
internal static class KoSettingsMapper
{
    public static KoBuildOptions ToBuildOptions(KoBuildSettings settings, IEnumerable<string> importPaths, ICakeEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(importPaths);
        ArgumentNullException.ThrowIfNull(environment);
        return new KoBuildOptions
        {
            ImportPaths = importPaths.ToArray(),
            WorkingDirectory = Absolute(settings.WorkingDirectory, environment) ?? environment.WorkingDirectory.FullPath,
            Platforms = [.. settings.Platforms],
            BaseImage = settings.BaseImage,
            Repository = settings.Repository,
            Tags = [.. settings.Tags],
            TagOnly = settings.TagOnly,
            Push = settings.Push,
            Local = settings.Local,
            InsecureRegistry = settings.InsecureRegistry,
            Naming = NamingOf(settings),
            OciLayoutPath = Absolute(settings.OciLayoutPath, environment),
            OciArchivePath = Absolute(settings.OciArchivePath, environment),
            TarballPath = Absolute(settings.TarballPath, environment),
            ImageRefsPath = Absolute(settings.ImageRefsPath, environment),
            Sbom = SbomOf(settings.Sbom),
            SbomDirectory = Absolute(settings.SbomDirectory, environment),
            SbomAttach = SbomAttachOf(settings.SbomAttach),
            Labels = new Dictionary<string, string>(settings.Labels, StringComparer.Ordinal),
            Annotations = new Dictionary<string, string>(settings.Annotations, StringComparer.Ordinal),
            User = settings.User,
            BuildFlags = [.. settings.BuildFlags],
            Ldflags = [.. settings.Ldflags],
            Jobs = settings.Jobs,
            CacheDirectory = Absolute(settings.CacheDirectory, environment),
            Environment = EnvironmentOf(environment, settings.EnvironmentVariables),
            SignKey = Absolute(settings.SignKey, environment),
            SignAnnotations = new Dictionary<string, string>(settings.SignAnnotations, StringComparer.Ordinal),
            AttestSbom = settings.AttestSbom,
            Compression = settings.Compression == KoLayerCompression.Zstd ? global::Ko.Engine.Layers.LayerCompression.Zstd : global::Ko.Engine.Layers.LayerCompression.Gzip,
            BuildRecordPath = Absolute(settings.BuildRecordPath, environment), // build record
        };
    }

    public static KoResolveOptions ToResolveOptions(KoResolveSettings settings, IEnumerable<FilePath> files, ICakeEnvironment environment) => new()
    {
        Files = files.Select(f => f.MakeAbsolute(environment).FullPath).ToArray(),
        Recursive = settings.Recursive,
        Selector = settings.Selector,
        OutputPath = Absolute(settings.OutputPath, environment),
        // build record: resolve reads the record (or the images given) instead of writing one.
        Build = ToBuildOptions(settings, [], environment) with { BuildRecordPath = null },
        BuildRecordPath = Absolute(settings.BuildRecordPath, environment),
        Images = settings.Images is null ? null : RecordOf(settings.Images),
    };

    /// <summary>The engine's record of a Cake build result: the engine's own images when the result came from <c>KoBuild</c>.</summary>
    public static global::Ko.Engine.Records.BuildRecord RecordOf(KoBuildResult result) =>
        new(result.Images.Select(i => i.Engine ?? new global::Ko.Engine.KoImageResult(
            i.ImportPath,
            i.Name,
            i.Reference,
            global::Ko.Engine.Oci.Digest.TryParse(i.Digest, out var d) ? d : throw new ArgumentException($"KoResolveSettings.Images: '{i.Digest}' of {i.ImportPath} is not a digest (sha256:<64 hex digits>).", nameof(result)),
            i.MediaType,
            i.Platforms.Select(global::Ko.Engine.Oci.Platform.Parse).ToList(),
            i.Tags.ToList())), "KoResolveSettings.Images");

    public static KoApplyOptions ToApplyOptions(KoApplySettings settings, IEnumerable<FilePath> files, ICakeEnvironment environment) => new()
    {
        Resolve = ToResolveOptions(settings, files, environment),
        Kubeconfig = Absolute(settings.Kubeconfig, environment),
        Context = settings.Context,
        Namespace = settings.Namespace,
        ForceConflicts = settings.ForceConflicts,
        ContinueOnError = settings.ContinueOnError,
        UseKubectl = settings.UseKubectl,
        KubectlArguments = [.. settings.KubectlArguments],
    };

    public static KoDeleteOptions ToDeleteOptions(KoDeleteSettings settings, IEnumerable<FilePath> files, ICakeEnvironment environment) => new()
    {
        Files = files.Select(f => f.MakeAbsolute(environment).FullPath).ToArray(),
        Recursive = settings.Recursive,
        Selector = settings.Selector,
        Kubeconfig = Absolute(settings.Kubeconfig, environment),
        Context = settings.Context,
        Namespace = settings.Namespace,
        IgnoreNotFound = settings.IgnoreNotFound,
        Environment = EnvironmentOf(environment, settings.EnvironmentVariables),
    };

    public static KoLoginOptions ToLoginOptions(string registry, KoLoginSettings settings, ICakeEnvironment environment)
    {
        if (string.IsNullOrWhiteSpace(registry))
        {
            throw new ArgumentException("The registry host is required, e.g. registry.example:5000.", nameof(registry));
        }

        return new KoLoginOptions
        {
            Registry = registry,
            Username = settings.Username ?? throw new ArgumentException("KoLoginSettings.Username is required.", nameof(settings)),
            Password = settings.Password ?? throw new ArgumentException("KoLoginSettings.Password is required.", nameof(settings)),
            InsecureRegistry = settings.InsecureRegistry,
            Environment = EnvironmentOf(environment, settings.EnvironmentVariables),
        };
    }

    /// <summary>The engine's push options from Cake push settings.</summary>
    public static KoPushOptions ToPushOptions(string source, KoPushSettings settings, ICakeEnvironment environment, string workingDirectory) => new()
    {
        Source = string.IsNullOrWhiteSpace(source) ? throw new ArgumentException("The source is required, e.g. oci:artifacts/layout.", nameof(source)) : source,
        To = settings.To,
        Repository = settings.Repository,
        Bare = settings.Bare,
        Tags = settings.Tags.ToList(),
        InsecureRegistry = settings.InsecureRegistry,
        SbomAttach = SbomAttachOf(settings.SbomAttach),
        ImageRefsPath = Absolute(settings.ImageRefsPath, environment),
        SignKey = Absolute(settings.SignKey, environment),
        SignAnnotations = new Dictionary<string, string>(settings.SignAnnotations, StringComparer.Ordinal),
        AttestSbom = settings.AttestSbom,
        WorkingDirectory = workingDirectory,
        Environment = EnvironmentOf(environment, settings.EnvironmentVariables),
    };

    /// <summary>Naming by the engine's one rule (as ko): PreserveImportPaths, then BaseImportPaths, then Bare, else md5.</summary>
    public static NamingStrategy NamingOf(KoBuildSettings settings) =>
        NamingRule.Choose(settings.PreserveImportPaths, settings.BaseImportPaths, settings.Bare);

    /// <summary>The warning to log when more than one naming switch is set, else null.</summary>
    public static string? NamingWarning(KoBuildSettings settings) =>
        NamingRule.Overridden(settings.PreserveImportPaths, settings.BaseImportPaths, settings.Bare, (nameof(settings.PreserveImportPaths), nameof(settings.BaseImportPaths), nameof(settings.Bare)));

    /// <summary>The engine's SBOM format; null stays null (the engine's default, SPDX).</summary>
    public static SbomFormat? SbomOf(KoSbomFormat? format) => format switch
    {
        null => null,
        KoSbomFormat.Spdx => SbomFormat.Spdx,
        KoSbomFormat.CycloneDx => SbomFormat.CycloneDx,
        KoSbomFormat.None => SbomFormat.None,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Not a KoSbomFormat: use Spdx, CycloneDx or None."),
    };

    /// <summary>The engine's SBOM attachment.</summary>
    public static SbomAttachment SbomAttachOf(KoSbomAttachment attachment) => attachment switch
    {
        KoSbomAttachment.Referrers => SbomAttachment.Referrers,
        KoSbomAttachment.Tag => SbomAttachment.Tag,
        _ => throw new ArgumentOutOfRangeException(nameof(attachment), attachment, "Not a KoSbomAttachment: use Referrers or Tag."),
    };

    /// <summary>The Cake context's environment (not the process's), with the call's additions and removals.</summary>
    public static IReadOnlyDictionary<string, string?> EnvironmentOf(ICakeEnvironment environment, IDictionary<string, string?> extra)
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in environment.GetEnvironmentVariables())
        {
            result[key] = value;
        }

        foreach (var (key, value) in extra)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = value;
            }
        }

        return result;
    }

    private static string? Absolute(DirectoryPath? path, ICakeEnvironment environment) => path?.MakeAbsolute(environment).FullPath;

    private static string? Absolute(FilePath? path, ICakeEnvironment environment) => path?.MakeAbsolute(environment).FullPath;
}
