using Ko.Engine;

namespace Nuke.Ko;

public static partial class KoTasks
{
    /// <summary>
    /// Publishes an image or index built earlier (<c>dotnet ko push</c>): an OCI layout or archive, or a docker archive,
    /// to a registry, keeping its digest and attaching the SBOMs stored beside it. Pair it with a
    /// <c>KoBuild(_ => _.DisablePush().SetOciLayoutPath(...))</c> target to build once and publish later.
    /// </summary>
    /// <param name="toolSettings">The source and where to push it.</param>
    /// <returns>The reference pushed, its digest and what was uploaded.</returns>
    /// <exception cref="KoTaskException">A missing or malformed source (KO3014–KO3017), no repository (KO1003), or a registry failure.</exception>
    /// <example><code>Target Push =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoPush(new KoPushSettings().SetSource("oci:artifacts/layout").SetRepository("registry.example/team")); });</code></example>
    public static KoPushResult KoPush(KoPushSettings toolSettings) => Sync(() => KoPushAsync(toolSettings));

    /// <summary>Publishes an image or index built earlier, configured fluently: <c>KoPush(_ => _.SetSource("oci:out/layout"))</c>.</summary>
    /// <param name="configurator">Sets the source and the target.</param>
    /// <returns>The reference pushed, its digest and what was uploaded.</returns>
    /// <exception cref="KoTaskException">A missing or malformed source, no repository, or a registry failure.</exception>
    /// <example><code>Target Push =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoPush(_ =&gt; _.SetSource("oci:artifacts/layout").SetRepository("registry.example/team")); });</code></example>
    public static KoPushResult KoPush(Func<KoPushSettings, KoPushSettings> configurator) => Sync(() => KoPushAsync(configurator));

    /// <summary>Async twin of <see cref="KoPush(KoPushSettings)"/>.</summary>
    /// <param name="toolSettings">The source and where to push it.</param>
    /// <param name="cancellationToken">Cancels the push.</param>
    /// <returns>The reference pushed, its digest and what was uploaded.</returns>
    /// <exception cref="KoTaskException">A missing or malformed source, no repository, or a registry failure.</exception>
    /// <example><code>Target Push =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoPushAsync(new KoPushSettings().SetSource("oci:artifacts/layout").SetRepository("registry.example/team")); });</code></example>
    public static Task<KoPushResult> KoPushAsync(KoPushSettings toolSettings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(toolSettings);
        return RunAsync(nameof(KoPush), toolSettings, async (engine, ct) => (await engine.PushAsync(toolSettings.ToOptions(), ct).ConfigureAwait(false)).ToFace(), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoPush(Func{KoPushSettings, KoPushSettings})"/>.</summary>
    /// <param name="configurator">Sets the source and the target.</param>
    /// <param name="cancellationToken">Cancels the push.</param>
    /// <returns>The reference pushed, its digest and what was uploaded.</returns>
    /// <exception cref="KoTaskException">A missing or malformed source, no repository, or a registry failure.</exception>
    /// <example><code>Target Push =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoPushAsync(_ =&gt; _.SetSource("oci:artifacts/layout").SetRepository("registry.example/team")); });</code></example>
    public static Task<KoPushResult> KoPushAsync(Func<KoPushSettings, KoPushSettings> configurator, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        return KoPushAsync(configurator(new KoPushSettings()), cancellationToken);
    }
}
