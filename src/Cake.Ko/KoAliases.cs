using Cake.Core;
using Cake.Core.Annotations;
using Cake.Core.Diagnostics;
using Ko.Engine;

namespace Cake.Ko;

/// <summary>
/// <para>Aliases for <see href="https://ko.build">ko</see>: build Go programs into OCI images without Docker, and
/// resolve or apply Kubernetes manifests that reference them as <c>ko://import/path</c>.</para>
/// <para>Load the addin with <c>#addin nuget:?package=Cake.Ko&amp;loaddependencies=true</c>; the engine ships inside it.</para>
/// </summary>
/// <example>
/// <code>
/// var result = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team" });
/// Information(result.Reference);
/// </code>
/// </example>
[CakeAliasCategory("Ko")]
// The settings, results and their enums all live in Cake.Ko, so this one import is every namespace a script needs;
// Cake.Core.IO (FilePath, DirectoryPath, GlobPattern) is imported by Cake itself.
[CakeNamespaceImport("Cake.Ko")]
public static partial class KoAliases
{
    /// <summary>Builds the package in the working directory (<c>.</c>, as <c>ko build</c> with no import path) and pushes it to <c>KO_DOCKER_REPO</c>.</summary>
    /// <param name="context">The Cake context.</param>
    /// <returns>The published image.</returns>
    /// <example><code>var image = KoBuild();</code></example>
    [CakeMethodAlias]
    [CakeAliasCategory("Build")]
    public static KoBuildResult KoBuild(this ICakeContext context) => context.KoBuild(".", null);

    /// <summary>Builds one import path into an image and pushes it to <c>KO_DOCKER_REPO</c> (from the Cake context's environment).</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="importPath">The import path: <c>./cmd/app</c>, <c>example.com/mod/cmd/app</c> or <c>ko://…</c>.</param>
    /// <returns>The published image.</returns>
    /// <example><code>var image = KoBuild("./cmd/server");</code></example>
    [CakeMethodAlias]
    [CakeAliasCategory("Build")]
    public static KoBuildResult KoBuild(this ICakeContext context, string importPath) => context.KoBuild(importPath, null);

    /// <summary>Builds one import path into an image as <paramref name="settings"/> say.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="importPath">The import path: <c>./cmd/app</c>, <c>example.com/mod/cmd/app</c> or <c>ko://…</c>.</param>
    /// <param name="settings">Repository, platforms, tags, outputs and the rest; null means the defaults.</param>
    /// <returns>The published image: reference, digest, platforms.</returns>
    /// <exception cref="CakeException">The build failed; the message starts with the ko code, e.g. <c>KO2003: …</c>.</exception>
    /// <example>
    /// <code>
    /// var result = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team", Platforms = { "linux/amd64", "linux/arm64" } });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Build")]
    public static KoBuildResult KoBuild(this ICakeContext context, string importPath, KoBuildSettings? settings)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(importPath);
        return context.KoBuild([importPath], settings);
    }

    /// <summary>Builds several import paths (concurrently, bounded by <see cref="KoBuildSettings.Jobs"/>) as <paramref name="settings"/> say.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="importPaths">The import paths.</param>
    /// <param name="settings">Repository, platforms, tags, outputs and the rest; null means the defaults.</param>
    /// <returns>One image per import path, in the order given.</returns>
    /// <exception cref="CakeException">The build failed; the message starts with the ko code.</exception>
    /// <example><code>var images = KoBuild(new[] { "./cmd/api", "./cmd/worker" }, new KoBuildSettings { Repository = "registry.example/team" });</code></example>
    [CakeMethodAlias]
    [CakeAliasCategory("Build")]
    public static KoBuildResult KoBuild(this ICakeContext context, IEnumerable<string> importPaths, KoBuildSettings? settings)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(importPaths);
        settings ??= new KoBuildSettings();
        if (KoSettingsMapper.NamingWarning(settings) is { } naming)
        {
            context.Log.Write(Verbosity.Minimal, LogLevel.Warning, "{0}", naming);
        }

        var result = Run(context, (engine, options) => engine.BuildAsync(options), () => KoSettingsMapper.ToBuildOptions(settings, importPaths, context.Environment));
        var images = LogImages(context, result.Images);

        context.Log.Write(
            Verbosity.Verbose,
            LogLevel.Verbose,
            "{0}",
            $"ko: {result.Statistics.GoBuilds} go build(s), {result.Statistics.LayersWritten} layer(s) written, {result.Statistics.LayersReused} reused; blobs {result.Statistics.BlobsUploaded} uploaded, {result.Statistics.BlobsSkipped} already there, {result.Statistics.BlobsMounted} mounted");
        return new KoBuildResult(images);
    }

    /// <summary>Checks credentials against a registry and stores them as <c>docker login</c> does.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="registry">The registry host, e.g. <c>registry.example:5000</c>.</param>
    /// <param name="username">The user name.</param>
    /// <param name="password">The password or token; never logged.</param>
    /// <returns>Where the credentials were stored (a config.json path or a credential helper).</returns>
    /// <example>
    /// <code>
    /// KoLogin("registry.example", "ci", EnvironmentVariable("REGISTRY_PASSWORD"));
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Registry")]
    public static string KoLogin(this ICakeContext context, string registry, string username, string password) =>
        context.KoLogin(registry, new KoLoginSettings { Username = username, Password = password });

    /// <summary>Checks credentials against a registry and stores them as <c>docker login</c> does.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="registry">The registry host, e.g. <c>registry.example:5000</c>.</param>
    /// <param name="settings">The user, password and transport.</param>
    /// <returns>Where the credentials were stored (a config.json path or a credential helper).</returns>
    /// <exception cref="CakeException"><c>KO3004</c> when the registry refuses the credentials.</exception>
    /// <example>
    /// <code>
    /// KoLogin("registry.example", new KoLoginSettings { Username = "ci", Password = EnvironmentVariable("REGISTRY_PASSWORD") });
    /// </code>
    /// </example>
    [CakeMethodAlias]
    [CakeAliasCategory("Registry")]
    public static string KoLogin(this ICakeContext context, string registry, KoLoginSettings settings)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(settings);
        var stored = Run(context, (engine, options) => engine.LoginAsync(options), () => KoSettingsMapper.ToLoginOptions(registry, settings, context.Environment));
        context.Log.Write(Verbosity.Normal, LogLevel.Information, "{0}", $"ko: logged in to {registry}");
        return stored;
    }

    /// <summary>
    /// Publishes an image or index built earlier (<c>dotnet ko push</c>) to a registry, keeping its digest and attaching
    /// the SBOMs stored beside it: build once with <c>Push = false</c> and <c>OciLayoutPath</c>, scan, then push.
    /// </summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="source"><c>oci:DIR[:REF]</c>, <c>oci-archive:FILE[:REF]</c>, <c>docker-archive:FILE</c> or a registry reference.</param>
    /// <param name="settings">Where to push; null means <c>KO_DOCKER_REPO</c> and the tag <c>latest</c>.</param>
    /// <returns>The printed reference (<c>name@sha256:…</c>).</returns>
    /// <example>
    /// <code>
    /// KoBuild("./cmd/server", new KoBuildSettings { Push = false, OciLayoutPath = "artifacts/layout" });
    /// var reference = KoPush("oci:artifacts/layout", new KoPushSettings { Repository = "registry.example/team", Tags = { "1.2.3" } });
    /// </code>
    /// </example>
    /// <exception cref="CakeException">A missing or malformed source (KO3014–KO3017), no repository (KO1003), or a registry failure.</exception>
    [CakeMethodAlias]
    [CakeAliasCategory("Registry")]
    public static string KoPush(this ICakeContext context, string source, KoPushSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        settings ??= new KoPushSettings();
        var result = Run(context, (engine, options) => engine.PushAsync(options), () => KoSettingsMapper.ToPushOptions(source, settings, context.Environment, context.Environment.WorkingDirectory.FullPath));
        return result.Reference;
    }

    // The engine logs one "Built X as Y" line per image; the face does not repeat it.
    private static List<KoImage> LogImages(ICakeContext context, IEnumerable<KoImageResult> results) => results.Select(ToImage).ToList();

    internal static KoImage ToImage(KoImageResult image) => new(
        image.ImportPath,
        image.Name,
        image.Reference,
        image.Digest.ToString(),
        image.MediaType,
        image.Platforms.Select(p => p.ToString()).ToList(),
        image.Tags.ToList())
    {
        Engine = image,
    };

    /// <summary>
    /// The one place where a Cake alias (synchronous by Cake's design) waits for the engine; engine errors become
    /// <see cref="CakeException"/>s that carry the ko code.
    /// </summary>
    private static TResult Run<TOptions, TResult>(ICakeContext context, Func<KoEngine, TOptions, Task<TResult>> operation, Func<TOptions> options)
    {
        var logger = new CakeKoLogger(context.Log);
        var engine = new KoEngine(logger, logger);
        try
        {
            return operation(engine, options()).GetAwaiter().GetResult();
        }
        catch (KoException e)
        {
            // The hint in Cake's terms (Push = false, KoLogin(...)), not the command line's flags.
            throw new CakeException($"{e.Code}: {CakeHints.Instance.Rewrite(e.Message)}", e);
        }
    }
}
