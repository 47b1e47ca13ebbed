using Cake.Core.IO;

namespace Cake.Ko;

/// <summary>
/// Fluent helpers in Cake's style: <c>SetX</c> sets a value, <c>WithX</c> adds to a collection; each returns the
/// same settings object so calls chain: <c>new KoBuildSettings().SetRepository("reg/team").WithPlatform("linux/arm64")</c>.
/// </summary>
public static class KoSettingsExtensions
{
    /// <summary>Sets <see cref="KoBuildSettings.Repository"/> (the <c>KO_DOCKER_REPO</c> value).</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="repository">The repository.</param>
    /// <returns>The same settings.</returns>
    public static T SetRepository<T>(this T settings, string? repository) where T : KoBuildSettings => Do(settings, s => s.Repository = repository);

    /// <summary>Adds platforms (<c>os/arch[/variant]</c> or <c>all</c>) to <see cref="KoBuildSettings.Platforms"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="platforms">The platforms.</param>
    /// <returns>The same settings.</returns>
    public static T WithPlatform<T>(this T settings, params string[] platforms) where T : KoBuildSettings => Do(settings, s => AddAll(s.Platforms, platforms));

    /// <summary>Adds tags to <see cref="KoBuildSettings.Tags"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="tags">The tags.</param>
    /// <returns>The same settings.</returns>
    public static T WithTag<T>(this T settings, params string[] tags) where T : KoBuildSettings => Do(settings, s => AddAll(s.Tags, tags));

    /// <summary>Sets <see cref="KoBuildSettings.Push"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="push">Whether to push.</param>
    /// <returns>The same settings.</returns>
    public static T SetPush<T>(this T settings, bool push = true) where T : KoBuildSettings => Do(settings, s => s.Push = push);

    /// <summary>Sets <see cref="KoBuildSettings.BaseImage"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="baseImage">The base image.</param>
    /// <returns>The same settings.</returns>
    public static T SetBaseImage<T>(this T settings, string? baseImage) where T : KoBuildSettings => Do(settings, s => s.BaseImage = baseImage);

    /// <summary>Sets <see cref="KoBuildSettings.OciLayoutPath"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="path">The layout directory.</param>
    /// <returns>The same settings.</returns>
    public static T SetOciLayoutPath<T>(this T settings, DirectoryPath? path) where T : KoBuildSettings => Do(settings, s => s.OciLayoutPath = path);

    /// <summary>Sets <see cref="KoBuildSettings.OciArchivePath"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="path">The archive file.</param>
    /// <returns>The same settings.</returns>
    public static T SetOciArchivePath<T>(this T settings, FilePath? path) where T : KoBuildSettings => Do(settings, s => s.OciArchivePath = path);

    /// <summary>Sets <see cref="KoBuildSettings.TarballPath"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="path">The docker-archive file.</param>
    /// <returns>The same settings.</returns>
    public static T SetTarballPath<T>(this T settings, FilePath? path) where T : KoBuildSettings => Do(settings, s => s.TarballPath = path);

    /// <summary>Sets <see cref="KoBuildSettings.ImageRefsPath"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="path">The file for the references.</param>
    /// <returns>The same settings.</returns>
    public static T SetImageRefsPath<T>(this T settings, FilePath? path) where T : KoBuildSettings => Do(settings, s => s.ImageRefsPath = path);

    /// <summary>Sets <see cref="KoBuildSettings.Sbom"/> (null: the default, SPDX).</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="format">The SBOM format.</param>
    /// <returns>The same settings.</returns>
    public static T SetSbom<T>(this T settings, KoSbomFormat? format) where T : KoBuildSettings => Do(settings, s => s.Sbom = format);

    /// <summary>Sets <see cref="KoBuildSettings.SbomDirectory"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="path">The directory the SBOMs are written into.</param>
    /// <returns>The same settings.</returns>
    public static T SetSbomDirectory<T>(this T settings, DirectoryPath? path) where T : KoBuildSettings => Do(settings, s => s.SbomDirectory = path);

    /// <summary>Sets <see cref="KoBuildSettings.SbomAttach"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="attachment">How pushed SBOMs are attached.</param>
    /// <returns>The same settings.</returns>
    public static T SetSbomAttach<T>(this T settings, KoSbomAttachment attachment) where T : KoBuildSettings => Do(settings, s => s.SbomAttach = attachment);

    /// <summary>Sets <see cref="KoBuildSettings.WorkingDirectory"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="path">The module directory.</param>
    /// <returns>The same settings.</returns>
    public static T SetWorkingDirectory<T>(this T settings, DirectoryPath? path) where T : KoBuildSettings => Do(settings, s => s.WorkingDirectory = path);

    /// <summary>Sets <see cref="KoBuildSettings.CacheDirectory"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="path">The cache directory.</param>
    /// <returns>The same settings.</returns>
    public static T SetCacheDirectory<T>(this T settings, DirectoryPath? path) where T : KoBuildSettings => Do(settings, s => s.CacheDirectory = path);

    /// <summary>Sets <see cref="KoBuildSettings.Jobs"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="jobs">Concurrent builds; 0 means the processor count.</param>
    /// <returns>The same settings.</returns>
    public static T SetJobs<T>(this T settings, int jobs) where T : KoBuildSettings => Do(settings, s => s.Jobs = jobs);

    /// <summary>Sets <see cref="KoBuildSettings.Bare"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="value">The value.</param>
    /// <returns>The same settings.</returns>
    public static T SetBare<T>(this T settings, bool value = true) where T : KoBuildSettings => Do(settings, s => s.Bare = value);

    /// <summary>Sets <see cref="KoBuildSettings.PreserveImportPaths"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="value">The value.</param>
    /// <returns>The same settings.</returns>
    public static T SetPreserveImportPaths<T>(this T settings, bool value = true) where T : KoBuildSettings => Do(settings, s => s.PreserveImportPaths = value);

    /// <summary>Sets <see cref="KoBuildSettings.BaseImportPaths"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="value">The value.</param>
    /// <returns>The same settings.</returns>
    public static T SetBaseImportPaths<T>(this T settings, bool value = true) where T : KoBuildSettings => Do(settings, s => s.BaseImportPaths = value);

    /// <summary>Sets <see cref="KoBuildSettings.TagOnly"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="value">The value.</param>
    /// <returns>The same settings.</returns>
    public static T SetTagOnly<T>(this T settings, bool value = true) where T : KoBuildSettings => Do(settings, s => s.TagOnly = value);

    /// <summary>Sets <see cref="KoBuildSettings.Local"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="value">The value.</param>
    /// <returns>The same settings.</returns>
    public static T SetLocal<T>(this T settings, bool value = true) where T : KoBuildSettings => Do(settings, s => s.Local = value);

    /// <summary>Sets <see cref="KoBuildSettings.InsecureRegistry"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="value">The value.</param>
    /// <returns>The same settings.</returns>
    public static T SetInsecureRegistry<T>(this T settings, bool value = true) where T : KoBuildSettings => Do(settings, s => s.InsecureRegistry = value);

    /// <summary>Adds a label to <see cref="KoBuildSettings.Labels"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="key">The label key.</param>
    /// <param name="value">The label value.</param>
    /// <returns>The same settings.</returns>
    public static T WithLabel<T>(this T settings, string key, string value) where T : KoBuildSettings => Do(settings, s => s.Labels[key] = value);

    /// <summary>Adds an annotation to <see cref="KoBuildSettings.Annotations"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="key">The annotation key.</param>
    /// <param name="value">The annotation value.</param>
    /// <returns>The same settings.</returns>
    public static T WithAnnotation<T>(this T settings, string key, string value) where T : KoBuildSettings => Do(settings, s => s.Annotations[key] = value);

    /// <summary>Sets <see cref="KoBuildSettings.User"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="user">The user.</param>
    /// <returns>The same settings.</returns>
    public static T SetUser<T>(this T settings, string? user) where T : KoBuildSettings => Do(settings, s => s.User = user);

    /// <summary>Adds linker flags to <see cref="KoBuildSettings.Ldflags"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="flags">The flags, e.g. <c>-X main.version=1.2.3</c>.</param>
    /// <returns>The same settings.</returns>
    public static T WithLdflags<T>(this T settings, params string[] flags) where T : KoBuildSettings => Do(settings, s => AddAll(s.Ldflags, flags));

    /// <summary>Adds <c>go build</c> flags to <see cref="KoBuildSettings.BuildFlags"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="flags">The flags.</param>
    /// <returns>The same settings.</returns>
    public static T WithBuildFlags<T>(this T settings, params string[] flags) where T : KoBuildSettings => Do(settings, s => AddAll(s.BuildFlags, flags));

    /// <summary>Sets a variable for this call (a null value removes it from the context's environment).</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="name">The variable.</param>
    /// <param name="value">The value, or null to remove it.</param>
    /// <returns>The same settings.</returns>
    public static T WithEnvironmentVariable<T>(this T settings, string name, string? value) where T : KoBuildSettings => Do(settings, s => s.EnvironmentVariables[name] = value);

    /// <summary>Sets <see cref="KoResolveSettings.Recursive"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="value">The value.</param>
    /// <returns>The same settings.</returns>
    public static T SetRecursive<T>(this T settings, bool value = true) where T : KoResolveSettings => Do(settings, s => s.Recursive = value);

    /// <summary>Sets <see cref="KoResolveSettings.Selector"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="selector">The label selector.</param>
    /// <returns>The same settings.</returns>
    public static T SetSelector<T>(this T settings, string? selector) where T : KoResolveSettings => Do(settings, s => s.Selector = selector);

    /// <summary>Sets <see cref="KoResolveSettings.OutputPath"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="path">The file for the resolved YAML.</param>
    /// <returns>The same settings.</returns>
    public static T SetOutputPath<T>(this T settings, FilePath? path) where T : KoResolveSettings => Do(settings, s => s.OutputPath = path);

    /// <summary>Sets <see cref="KoApplySettings.Kubeconfig"/>.</summary>
    /// <param name="settings">The settings.</param>
    /// <param name="path">The kubeconfig file.</param>
    /// <returns>The same settings.</returns>
    public static KoApplySettings SetKubeconfig(this KoApplySettings settings, FilePath? path) => Do(settings, s => s.Kubeconfig = path);

    /// <summary>Sets <see cref="KoApplySettings.Context"/>.</summary>
    /// <param name="settings">The settings.</param>
    /// <param name="context">The kubeconfig context.</param>
    /// <returns>The same settings.</returns>
    public static KoApplySettings SetContext(this KoApplySettings settings, string? context) => Do(settings, s => s.Context = context);

    /// <summary>Sets <see cref="KoApplySettings.Namespace"/>.</summary>
    /// <param name="settings">The settings.</param>
    /// <param name="ns">The namespace.</param>
    /// <returns>The same settings.</returns>
    public static KoApplySettings SetNamespace(this KoApplySettings settings, string? ns) => Do(settings, s => s.Namespace = ns);

    /// <summary>Sets <see cref="KoApplySettings.ForceConflicts"/>.</summary>
    /// <param name="settings">The settings.</param>
    /// <param name="value">The value.</param>
    /// <returns>The same settings.</returns>
    public static KoApplySettings SetForceConflicts(this KoApplySettings settings, bool value = true) => Do(settings, s => s.ForceConflicts = value);

    /// <summary>Sets <see cref="KoApplySettings.ContinueOnError"/>.</summary>
    /// <param name="settings">The settings.</param>
    /// <param name="value">The value.</param>
    /// <returns>The same settings.</returns>
    public static KoApplySettings SetContinueOnError(this KoApplySettings settings, bool value = true) => Do(settings, s => s.ContinueOnError = value);

    /// <summary>Sets <see cref="KoApplySettings.UseKubectl"/>.</summary>
    /// <param name="settings">The settings.</param>
    /// <param name="value">The value.</param>
    /// <returns>The same settings.</returns>
    public static KoApplySettings SetUseKubectl(this KoApplySettings settings, bool value = true) => Do(settings, s => s.UseKubectl = value);

    /// <summary>Adds arguments to <see cref="KoApplySettings.KubectlArguments"/>.</summary>
    /// <param name="settings">The settings.</param>
    /// <param name="arguments">The arguments.</param>
    /// <returns>The same settings.</returns>
    public static KoApplySettings WithKubectlArguments(this KoApplySettings settings, params string[] arguments) => Do(settings, s => AddAll(s.KubectlArguments, arguments));

    /// <summary>Sets <see cref="KoBuildSettings.SignKey"/>: sign every pushed image with this key.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="path">The private key file.</param>
    /// <returns>The same settings.</returns>
    public static T SetSignKey<T>(this T settings, FilePath? path) where T : KoBuildSettings => Do(settings, s => s.SignKey = path);

    /// <summary>Adds one entry to <see cref="KoBuildSettings.SignAnnotations"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="key">The annotation key.</param>
    /// <param name="value">The annotation value.</param>
    /// <returns>The same settings.</returns>
    public static T WithSignAnnotation<T>(this T settings, string key, string value) where T : KoBuildSettings => Do(settings, s => s.SignAnnotations[key] = value);

    /// <summary>Sets <see cref="KoBuildSettings.AttestSbom"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The settings.</param>
    /// <param name="value">The value.</param>
    /// <returns>The same settings.</returns>
    public static T SetAttestSbom<T>(this T settings, bool value = true) where T : KoBuildSettings => Do(settings, s => s.AttestSbom = value);

    private static T Do<T>(T settings, Action<T> change)
    {
        ArgumentNullException.ThrowIfNull(settings);
        change(settings);
        return settings;
    }

    private static void AddAll(ICollection<string> target, IEnumerable<string> values)
    {
        foreach (var value in values)
        {
            target.Add(value);
        }
    }
}
