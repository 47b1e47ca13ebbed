using Cake.Core;
using Cake.Core.Annotations;
using Cake.Core.IO;

namespace Cake.Ko;

// KoResolve/KoApply/KoCreate/KoDelete on a directory, a glob pattern or a plain string (a path, or a pattern when it
// has * ? [ or {), as Cake.Common's aliases take them. The string overloads also keep KoResolve("x") unambiguous
// between the FilePath, DirectoryPath and GlobPattern overloads.
public static partial class KoAliases
{
    /// <summary>Builds (or takes from <see cref="KoResolveSettings.Images"/>) every <c>ko://</c> image the manifests reference and returns them with digest references: a path or a glob pattern.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="pathOrPattern">A YAML file or directory, or a glob pattern such as <c>./k8s/**/*.yaml</c> (relative to the working directory).</param>
    /// <returns>The resolved YAML, documents in input order.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// KoResolve("./k8s/*.yaml");
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static string KoResolve(this ICakeContext context, string pathOrPattern) => context.KoResolve(ManifestPaths(context, pathOrPattern), null);

    /// <summary>Builds (or takes from <see cref="KoResolveSettings.Images"/>) every <c>ko://</c> image the manifests reference and returns them with digest references: a path or a glob pattern.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="pathOrPattern">A YAML file or directory, or a glob pattern such as <c>./k8s/**/*.yaml</c> (relative to the working directory).</param>
    /// <param name="settings">The settings; null means the defaults.</param>
    /// <returns>The resolved YAML, documents in input order.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// var yaml = KoResolve("./k8s/*.yaml", new KoResolveSettings { Images = build });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static string KoResolve(this ICakeContext context, string pathOrPattern, KoResolveSettings? settings) => context.KoResolve(ManifestPaths(context, pathOrPattern), settings);

    /// <summary>Builds (or takes from <see cref="KoResolveSettings.Images"/>) every <c>ko://</c> image the manifests reference and returns them with digest references: every YAML file in a directory.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="directory">A directory of YAML files (with <c>Recursive</c>, its subdirectories too).</param>
    /// <returns>The resolved YAML, documents in input order.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// KoResolve(Directory("./k8s"));
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static string KoResolve(this ICakeContext context, DirectoryPath directory) => context.KoResolve([ManifestPath(directory)], null);

    /// <summary>Builds (or takes from <see cref="KoResolveSettings.Images"/>) every <c>ko://</c> image the manifests reference and returns them with digest references: every YAML file in a directory.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="directory">A directory of YAML files (with <c>Recursive</c>, its subdirectories too).</param>
    /// <param name="settings">The settings; null means the defaults.</param>
    /// <returns>The resolved YAML, documents in input order.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// var yaml = KoResolve(Directory("./k8s"), new KoResolveSettings { Images = build });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static string KoResolve(this ICakeContext context, DirectoryPath directory, KoResolveSettings? settings) => context.KoResolve([ManifestPath(directory)], settings);

    /// <summary>Builds (or takes from <see cref="KoResolveSettings.Images"/>) every <c>ko://</c> image the manifests reference and returns them with digest references: the files a glob pattern matches.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="pattern">A glob pattern such as <c>./k8s/**/*.yaml</c>; matching no file is KO4002.</param>
    /// <param name="settings">The settings; null means the defaults.</param>
    /// <returns>The resolved YAML, documents in input order.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// var yaml = KoResolve(new GlobPattern("./k8s/**/*.yaml"), new KoResolveSettings { Images = build });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static string KoResolve(this ICakeContext context, GlobPattern pattern, KoResolveSettings? settings) => context.KoResolve(ManifestGlob(context, pattern), settings);

    /// <summary>Resolves the manifests and applies them to the cluster (server-side apply): a path or a glob pattern.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="pathOrPattern">A YAML file or directory, or a glob pattern such as <c>./k8s/**/*.yaml</c> (relative to the working directory).</param>
    /// <returns>What each object became and the images.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// KoApply("./k8s/*.yaml");
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoApply(this ICakeContext context, string pathOrPattern) => context.KoApply(ManifestPaths(context, pathOrPattern), null);

    /// <summary>Resolves the manifests and applies them to the cluster (server-side apply): a path or a glob pattern.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="pathOrPattern">A YAML file or directory, or a glob pattern such as <c>./k8s/**/*.yaml</c> (relative to the working directory).</param>
    /// <param name="settings">The settings; null means the defaults.</param>
    /// <returns>What each object became and the images.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// KoApply("./k8s/*.yaml", new KoApplySettings { Images = build, Namespace = "web" });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoApply(this ICakeContext context, string pathOrPattern, KoApplySettings? settings) => context.KoApply(ManifestPaths(context, pathOrPattern), settings);

    /// <summary>Resolves the manifests and applies them to the cluster (server-side apply): every YAML file in a directory.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="directory">A directory of YAML files (with <c>Recursive</c>, its subdirectories too).</param>
    /// <returns>What each object became and the images.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// KoApply(Directory("./k8s"));
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoApply(this ICakeContext context, DirectoryPath directory) => context.KoApply([ManifestPath(directory)], null);

    /// <summary>Resolves the manifests and applies them to the cluster (server-side apply): every YAML file in a directory.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="directory">A directory of YAML files (with <c>Recursive</c>, its subdirectories too).</param>
    /// <param name="settings">The settings; null means the defaults.</param>
    /// <returns>What each object became and the images.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// KoApply(Directory("./k8s"), new KoApplySettings { Images = build, Namespace = "web" });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoApply(this ICakeContext context, DirectoryPath directory, KoApplySettings? settings) => context.KoApply([ManifestPath(directory)], settings);

    /// <summary>Resolves the manifests and applies them to the cluster (server-side apply): the files a glob pattern matches.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="pattern">A glob pattern such as <c>./k8s/**/*.yaml</c>; matching no file is KO4002.</param>
    /// <param name="settings">The settings; null means the defaults.</param>
    /// <returns>What each object became and the images.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// KoApply(new GlobPattern("./k8s/**/*.yaml"), new KoApplySettings { Images = build, Namespace = "web" });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoApply(this ICakeContext context, GlobPattern pattern, KoApplySettings? settings) => context.KoApply(ManifestGlob(context, pattern), settings);

    /// <summary>Resolves the manifests and creates their objects in the cluster: a path or a glob pattern.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="pathOrPattern">A YAML file or directory, or a glob pattern such as <c>./k8s/**/*.yaml</c> (relative to the working directory).</param>
    /// <returns>What each object became and the images.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// KoCreate("./k8s/*.yaml");
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoCreate(this ICakeContext context, string pathOrPattern) => context.KoCreate(ManifestPaths(context, pathOrPattern), null);

    /// <summary>Resolves the manifests and creates their objects in the cluster: a path or a glob pattern.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="pathOrPattern">A YAML file or directory, or a glob pattern such as <c>./k8s/**/*.yaml</c> (relative to the working directory).</param>
    /// <param name="settings">The settings; null means the defaults.</param>
    /// <returns>What each object became and the images.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// KoCreate("./k8s/*.yaml", new KoApplySettings { Images = build });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoCreate(this ICakeContext context, string pathOrPattern, KoApplySettings? settings) => context.KoCreate(ManifestPaths(context, pathOrPattern), settings);

    /// <summary>Resolves the manifests and creates their objects in the cluster: every YAML file in a directory.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="directory">A directory of YAML files (with <c>Recursive</c>, its subdirectories too).</param>
    /// <returns>What each object became and the images.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// KoCreate(Directory("./k8s"));
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoCreate(this ICakeContext context, DirectoryPath directory) => context.KoCreate([ManifestPath(directory)], null);

    /// <summary>Resolves the manifests and creates their objects in the cluster: every YAML file in a directory.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="directory">A directory of YAML files (with <c>Recursive</c>, its subdirectories too).</param>
    /// <param name="settings">The settings; null means the defaults.</param>
    /// <returns>What each object became and the images.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// KoCreate(Directory("./k8s"), new KoApplySettings { Images = build });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoCreate(this ICakeContext context, DirectoryPath directory, KoApplySettings? settings) => context.KoCreate([ManifestPath(directory)], settings);

    /// <summary>Resolves the manifests and creates their objects in the cluster: the files a glob pattern matches.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="pattern">A glob pattern such as <c>./k8s/**/*.yaml</c>; matching no file is KO4002.</param>
    /// <param name="settings">The settings; null means the defaults.</param>
    /// <returns>What each object became and the images.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// var build = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
    /// KoCreate(new GlobPattern("./k8s/**/*.yaml"), new KoApplySettings { Images = build });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoCreate(this ICakeContext context, GlobPattern pattern, KoApplySettings? settings) => context.KoCreate(ManifestGlob(context, pattern), settings);

    /// <summary>Deletes the objects the manifests describe (nothing is built): a path or a glob pattern.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="pathOrPattern">A YAML file or directory, or a glob pattern such as <c>./k8s/**/*.yaml</c> (relative to the working directory).</param>
    /// <returns>What each object became.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// KoDelete("./k8s/*.yaml");
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoDelete(this ICakeContext context, string pathOrPattern) => context.KoDelete(ManifestPaths(context, pathOrPattern), null);

    /// <summary>Deletes the objects the manifests describe (nothing is built): a path or a glob pattern.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="pathOrPattern">A YAML file or directory, or a glob pattern such as <c>./k8s/**/*.yaml</c> (relative to the working directory).</param>
    /// <param name="settings">The settings; null means the defaults.</param>
    /// <returns>What each object became.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// KoDelete("./k8s/*.yaml", new KoDeleteSettings { Namespace = "web" });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoDelete(this ICakeContext context, string pathOrPattern, KoDeleteSettings? settings) => context.KoDelete(ManifestPaths(context, pathOrPattern), settings);

    /// <summary>Deletes the objects the manifests describe (nothing is built): every YAML file in a directory.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="directory">A directory of YAML files (with <c>Recursive</c>, its subdirectories too).</param>
    /// <returns>What each object became.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// KoDelete(Directory("./k8s"));
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoDelete(this ICakeContext context, DirectoryPath directory) => context.KoDelete([ManifestPath(directory)], null);

    /// <summary>Deletes the objects the manifests describe (nothing is built): every YAML file in a directory.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="directory">A directory of YAML files (with <c>Recursive</c>, its subdirectories too).</param>
    /// <param name="settings">The settings; null means the defaults.</param>
    /// <returns>What each object became.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// KoDelete(Directory("./k8s"), new KoDeleteSettings { Namespace = "web" });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoDelete(this ICakeContext context, DirectoryPath directory, KoDeleteSettings? settings) => context.KoDelete([ManifestPath(directory)], settings);

    /// <summary>Deletes the objects the manifests describe (nothing is built): the files a glob pattern matches.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="pattern">A glob pattern such as <c>./k8s/**/*.yaml</c>; matching no file is KO4002.</param>
    /// <param name="settings">The settings; null means the defaults.</param>
    /// <returns>What each object became.</returns>
    /// <exception cref="CakeException">The message starts with the ko code (KO4002 for a pattern that matches no file).</exception>
    /// <example>
    /// <code>
    /// KoDelete(new GlobPattern("./k8s/**/*.yaml"), new KoDeleteSettings { Namespace = "web" });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Kubernetes")]
    public static KoDeployResult KoDelete(this ICakeContext context, GlobPattern pattern, KoDeleteSettings? settings) => context.KoDelete(ManifestGlob(context, pattern), settings);

    private static FilePath ManifestPath(DirectoryPath directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return new FilePath(directory.FullPath); // the engine reads a directory given as a path, as ko -f does
    }

    private static List<FilePath> ManifestPaths(ICakeContext context, string pathOrPattern)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrPattern);
        return pathOrPattern.AsSpan().IndexOfAny("*?[{") >= 0 ? ManifestGlob(context, pathOrPattern) : [new FilePath(pathOrPattern)];
    }

    private static List<FilePath> ManifestGlob(ICakeContext context, GlobPattern pattern)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(pattern);
        var files = context.Globber.GetFiles(pattern.ToString()).OrderBy(f => f.FullPath, StringComparer.Ordinal).ToList();
        return files.Count > 0
            ? files
            : throw new CakeException($"{(global::Ko.Engine.KoErrorCodes.ManifestUnreadable)}: the pattern '{pattern}' matches no file under {context.Environment.WorkingDirectory.FullPath}; check the pattern, or name the files or directory.");
    }
}
