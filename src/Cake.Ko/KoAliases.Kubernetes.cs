using Cake.Core;
using Cake.Core.Annotations;
using Cake.Core.Diagnostics;
using Cake.Core.IO;
using Ko.Engine;
using Ko.Engine.Configuration;

namespace Cake.Ko;

/// <summary>What <c>KoApply</c>, <c>KoCreate</c> or <c>KoDelete</c> did.</summary>
/// <param name="Objects">One line per object, e.g. <c>deployment.apps/hello serverside-applied</c>, in input order.</param>
/// <param name="Images">The images built (none for delete).</param>
public sealed record KoDeployResult(IReadOnlyList<string> Objects, IReadOnlyList<KoImage> Images);

public static partial class KoAliases
{
    /// <summary>Builds every <c>ko://</c> image a manifest references and returns the manifest with digest references.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="path">A YAML file or a directory of them.</param>
    /// <returns>The resolved YAML.</returns>
    /// <example><code>var yaml = KoResolve("./k8s/deployment.yaml");</code></example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static string KoResolve(this ICakeContext context, FilePath path) => context.KoResolve(path, null);

    /// <summary>Builds every <c>ko://</c> image a manifest references and returns the manifest with digest references.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="path">A YAML file or a directory of them.</param>
    /// <param name="settings">Build settings, selector, and <see cref="KoResolveSettings.OutputPath"/> to also write a file.</param>
    /// <returns>The resolved YAML (comments, quoting and indentation kept).</returns>
    /// <exception cref="CakeException">The message starts with the ko code.</exception>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// var yaml = KoResolve(File("./k8s/deployment.yaml"), new KoResolveSettings { Images = build });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static string KoResolve(this ICakeContext context, FilePath path, KoResolveSettings? settings)
    {
        ArgumentNullException.ThrowIfNull(path);
        return context.KoResolve([path], settings);
    }

    /// <summary>Builds every <c>ko://</c> image the manifests reference and returns them with digest references.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="paths">YAML files or directories, e.g. <c>GetFiles("./k8s/**/*.yaml")</c>.</param>
    /// <param name="settings">Build settings, selector, output file.</param>
    /// <returns>The resolved YAML, documents in input order.</returns>
    /// <exception cref="CakeException">The message starts with the ko code.</exception>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// var yaml = KoResolve(GetFiles("./k8s/**/*.yaml"), new KoResolveSettings { Images = build });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static string KoResolve(this ICakeContext context, IEnumerable<FilePath> paths, KoResolveSettings? settings)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(paths);
        settings ??= new(); // null means the defaults
        var result = Run(context, (engine, options) => engine.ResolveAsync(options), () => KoSettingsMapper.ToResolveOptions(settings, paths, context.Environment));
        LogImages(context, result.Images);
        return result.Text;
    }

    /// <summary>Resolves the manifests and applies them to the cluster (server-side apply).</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="path">A YAML file or a directory of them.</param>
    /// <returns>What each object became.</returns>
    /// <example>
    /// <code>
    /// var deployed = KoApply(File("./k8s/deployment.yaml"));
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoApply(this ICakeContext context, FilePath path) => context.KoApply([path], null);

    /// <summary>Resolves the manifests and applies them to the cluster (server-side apply).</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="path">A YAML file or a directory of them.</param>
    /// <param name="settings">Build settings and the cluster to talk to.</param>
    /// <returns>What each object became.</returns>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// var deployed = KoApply(File("./k8s/deployment.yaml"), new KoApplySettings { Images = build });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoApply(this ICakeContext context, FilePath path, KoApplySettings? settings) => context.KoApply([path], settings);

    /// <summary>Resolves the manifests and applies them to the cluster (server-side apply).</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="paths">YAML files or directories, e.g. <c>GetFiles("./k8s/**/*.yaml")</c>.</param>
    /// <param name="settings">Build settings and the cluster to talk to.</param>
    /// <returns>What each object became.</returns>
    /// <exception cref="CakeException">The message starts with the ko code.</exception>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// var deployed = KoApply(GetFiles("./k8s/**/*.yaml"), new KoApplySettings { Images = build });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoApply(this ICakeContext context, IEnumerable<FilePath> paths, KoApplySettings? settings) =>
        Deploy(context, paths, settings, (engine, options) => engine.ApplyAsync(options));

    /// <summary>Resolves the manifests and creates the objects in the cluster.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="path">A YAML file or a directory of them.</param>
    /// <returns>What each object became.</returns>
    /// <example>
    /// <code>
    /// var deployed = KoCreate(File("./k8s/deployment.yaml"));
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoCreate(this ICakeContext context, FilePath path) => context.KoCreate([path], null);

    /// <summary>Resolves the manifests and creates the objects in the cluster.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="path">A YAML file or a directory of them.</param>
    /// <param name="settings">Build settings and the cluster to talk to.</param>
    /// <returns>What each object became.</returns>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// var deployed = KoCreate(File("./k8s/deployment.yaml"), new KoApplySettings { Images = build });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoCreate(this ICakeContext context, FilePath path, KoApplySettings? settings) => context.KoCreate([path], settings);

    /// <summary>Resolves the manifests and creates the objects in the cluster.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="paths">YAML files or directories, e.g. <c>GetFiles("./k8s/**/*.yaml")</c>.</param>
    /// <param name="settings">Build settings and the cluster to talk to.</param>
    /// <returns>What each object became.</returns>
    /// <exception cref="CakeException">The message starts with the ko code.</exception>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// var deployed = KoCreate(GetFiles("./k8s/**/*.yaml"), new KoApplySettings { Images = build });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoCreate(this ICakeContext context, IEnumerable<FilePath> paths, KoApplySettings? settings) =>
        Deploy(context, paths, settings, (engine, options) => engine.CreateAsync(options));

    /// <summary>Deletes the objects the manifests describe (nothing is built).</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="path">A YAML file or a directory of them.</param>
    /// <returns>What each object became.</returns>
    /// <example>
    /// <code>
    /// var deployed = KoDelete(File("./k8s/deployment.yaml"));
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoDelete(this ICakeContext context, FilePath path) => context.KoDelete([path], null);

    /// <summary>Deletes the objects the manifests describe (nothing is built).</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="path">A YAML file or a directory of them.</param>
    /// <param name="settings">The cluster to talk to, selector, not-found handling.</param>
    /// <returns>What each object became.</returns>
    /// <example>
    /// <code>
    /// var deployed = KoDelete(File("./k8s/deployment.yaml"), new KoDeleteSettings { Namespace = "web" });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoDelete(this ICakeContext context, FilePath path, KoDeleteSettings? settings) => context.KoDelete([path], settings);

    /// <summary>Deletes the objects the manifests describe (nothing is built).</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="paths">YAML files or directories, e.g. <c>GetFiles("./k8s/**/*.yaml")</c>.</param>
    /// <param name="settings">The cluster to talk to, selector, not-found handling.</param>
    /// <returns>What each object became.</returns>
    /// <exception cref="CakeException">The message starts with the ko code.</exception>
    /// <example>
    /// <code>
    /// var deployed = KoDelete(GetFiles("./k8s/**/*.yaml"), new KoDeleteSettings { Namespace = "web" });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoDelete(this ICakeContext context, IEnumerable<FilePath> paths, KoDeleteSettings? settings)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(paths);
        settings ??= new(); // null means the defaults
        var result = Run(context, (engine, options) => engine.DeleteAsync(options), () => KoSettingsMapper.ToDeleteOptions(settings, paths, context.Environment));
        return ToDeploy(context, result);
    }

    private static KoDeployResult Deploy(ICakeContext context, IEnumerable<FilePath> paths, KoApplySettings? settings, Func<KoEngine, KoApplyOptions, Task<KoApplyResult>> operation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(paths);
        settings ??= new(); // null means the defaults
        var result = Run(context, operation, () => KoSettingsMapper.ToApplyOptions(settings, paths, context.Environment));
        LogImages(context, result.Images);
        return ToDeploy(context, result);
    }

    private static KoDeployResult ToDeploy(ICakeContext context, KoApplyResult result)
    {
        var objects = result.Objects.Select(o => o.ToString()).ToList();
        foreach (var line in objects)
        {
            context.Log.Write(Verbosity.Normal, LogLevel.Information, "{0}", line);
        }

        return new KoDeployResult(objects, result.Images.Select(ToImage).ToList());
    }
}
