using Ko.Engine.Configuration;

namespace Nuke.Ko;

public static partial class KoTasks
{
    /// <summary>Builds every <c>ko://</c> reference in the YAML files and replaces it with the image's digest (<c>ko resolve</c>).</summary>
    /// <param name="toolSettings">The files and settings; null means the defaults.</param>
    /// <returns>The resolved YAML and the images built.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Resolve =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoResolve(new KoResolveSettings().SetFile("k8s").SetImages(Published)); });</code></example>
    public static KoResolveResult KoResolve(KoResolveSettings? toolSettings = null) => Sync(() => KoResolveAsync(toolSettings));

    /// <summary>Builds every <c>ko://</c> reference in the YAML files and replaces it with the image's digest (<c>ko resolve</c>), configured fluently.</summary>
    /// <param name="configurator">Changes the default settings.</param>
    /// <returns>The resolved YAML and the images built.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Resolve =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoResolve(_ =&gt; _.SetFile("k8s").SetImages(Published)); });</code></example>
    public static KoResolveResult KoResolve(Func<KoResolveSettings, KoResolveSettings> configurator) => Sync(() => KoResolveAsync(configurator));

    /// <summary>Runs one KoResolve per variant, <paramref name="degreeOfParallelism"/> at a time.</summary>
    /// <param name="configurator">Makes the variants, e.g. with <c>CombineWith</c>.</param>
    /// <param name="degreeOfParallelism">How many variants run at once.</param>
    /// <param name="completeOnFailure">Let the other variants finish when one fails (else they are cancelled).</param>
    /// <returns>Each variant's settings and result, in the variants' order.</returns>
    /// <exception cref="KoTaskException">A variant failed (<see cref="AggregateException"/> when several did).</exception>
    /// <example><code>Target Resolve =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoResolve(_ =&gt; _.SetImages(Published).CombineWith(new[] { "k8s/staging", "k8s/prod" }, (_, dir) =&gt; _.SetFile(dir)), degreeOfParallelism: 2); });</code></example>
    public static IReadOnlyList<(KoResolveSettings Settings, KoResolveResult Result)> KoResolve(KoCombinatorial<KoResolveSettings> configurator, int degreeOfParallelism = 1, bool completeOnFailure = false) =>
        Sync(() => KoResolveAsync(configurator, degreeOfParallelism, completeOnFailure));

    /// <summary>Async twin of <see cref="KoResolve(KoResolveSettings)"/>.</summary>
    /// <param name="toolSettings">The files and settings; null means the defaults.</param>
    /// <param name="cancellationToken">Cancels the task.</param>
    /// <returns>The resolved YAML and the images built.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Resolve =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoResolveAsync(new KoResolveSettings().SetFile("k8s").SetImages(Published)); });</code></example>
    public static Task<KoResolveResult> KoResolveAsync(KoResolveSettings? toolSettings = null, CancellationToken cancellationToken = default)
    {
        toolSettings ??= new KoResolveSettings();
        return RunAsync(nameof(KoResolve), toolSettings, async (engine, ct) => (await engine.ResolveAsync(toolSettings.ToOptions(), ct).ConfigureAwait(false)).ToFace(), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoResolve(Func{KoResolveSettings, KoResolveSettings})"/>.</summary>
    /// <param name="configurator">Changes the default settings.</param>
    /// <param name="cancellationToken">Cancels the task.</param>
    /// <returns>The resolved YAML and the images built.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Resolve =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoResolveAsync(_ =&gt; _.SetFile("k8s").SetImages(Published)); });</code></example>
    public static Task<KoResolveResult> KoResolveAsync(Func<KoResolveSettings, KoResolveSettings> configurator, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        return KoResolveAsync(configurator(new KoResolveSettings()), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoResolve(KoCombinatorial{KoResolveSettings}, int, bool)"/>.</summary>
    /// <param name="configurator">Makes the variants.</param>
    /// <param name="degreeOfParallelism">How many variants run at once.</param>
    /// <param name="completeOnFailure">Let the other variants finish when one fails.</param>
    /// <param name="cancellationToken">Cancels every variant.</param>
    /// <returns>Each variant's settings and result, in the variants' order.</returns>
    /// <exception cref="KoTaskException">A variant failed (<see cref="AggregateException"/> when several did).</exception>
    /// <example><code>Target Resolve =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoResolveAsync(_ =&gt; _.SetImages(Published).CombineWith(new[] { "k8s/staging", "k8s/prod" }, (_, dir) =&gt; _.SetFile(dir)), degreeOfParallelism: 2); });</code></example>
    public static Task<IReadOnlyList<(KoResolveSettings Settings, KoResolveResult Result)>> KoResolveAsync(KoCombinatorial<KoResolveSettings> configurator, int degreeOfParallelism = 1, bool completeOnFailure = false, CancellationToken cancellationToken = default) =>
        CombineAsync(configurator, new KoResolveSettings(), KoResolveAsync, degreeOfParallelism, completeOnFailure, cancellationToken);


    /// <summary>Resolves the YAML files and server-side applies them to the cluster (<c>ko apply</c>).</summary>
    /// <param name="toolSettings">The files and settings; null means the defaults.</param>
    /// <returns>What each object became and the images built.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Apply =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoApply(new KoApplySettings().SetFile("k8s").SetImages(Published).SetNamespace("web")); });</code></example>
    public static KoApplyResult KoApply(KoApplySettings? toolSettings = null) => Sync(() => KoApplyAsync(toolSettings));

    /// <summary>Resolves the YAML files and server-side applies them to the cluster (<c>ko apply</c>), configured fluently.</summary>
    /// <param name="configurator">Changes the default settings.</param>
    /// <returns>What each object became and the images built.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Apply =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoApply(_ =&gt; _.SetFile("k8s").SetImages(Published).SetNamespace("web")); });</code></example>
    public static KoApplyResult KoApply(Func<KoApplySettings, KoApplySettings> configurator) => Sync(() => KoApplyAsync(configurator));

    /// <summary>Runs one KoApply per variant, <paramref name="degreeOfParallelism"/> at a time.</summary>
    /// <param name="configurator">Makes the variants, e.g. with <c>CombineWith</c>.</param>
    /// <param name="degreeOfParallelism">How many variants run at once.</param>
    /// <param name="completeOnFailure">Let the other variants finish when one fails (else they are cancelled).</param>
    /// <returns>Each variant's settings and result, in the variants' order.</returns>
    /// <exception cref="KoTaskException">A variant failed (<see cref="AggregateException"/> when several did).</exception>
    /// <example><code>Target Apply =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoApply(_ =&gt; _.SetFile("k8s").SetImages(Published).CombineWith(new[] { "staging", "prod" }, (_, ctx) =&gt; _.SetContext(ctx)), degreeOfParallelism: 2); });</code></example>
    public static IReadOnlyList<(KoApplySettings Settings, KoApplyResult Result)> KoApply(KoCombinatorial<KoApplySettings> configurator, int degreeOfParallelism = 1, bool completeOnFailure = false) =>
        Sync(() => KoApplyAsync(configurator, degreeOfParallelism, completeOnFailure));

    /// <summary>Async twin of <see cref="KoApply(KoApplySettings)"/>.</summary>
    /// <param name="toolSettings">The files and settings; null means the defaults.</param>
    /// <param name="cancellationToken">Cancels the task.</param>
    /// <returns>What each object became and the images built.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Apply =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoApplyAsync(new KoApplySettings().SetFile("k8s").SetImages(Published).SetNamespace("web")); });</code></example>
    public static Task<KoApplyResult> KoApplyAsync(KoApplySettings? toolSettings = null, CancellationToken cancellationToken = default)
    {
        toolSettings ??= new KoApplySettings();
        return RunAsync(nameof(KoApply), toolSettings, async (engine, ct) => (await engine.ApplyAsync(toolSettings.ToApplyOptions(), ct).ConfigureAwait(false)).ToFace(), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoApply(Func{KoApplySettings, KoApplySettings})"/>.</summary>
    /// <param name="configurator">Changes the default settings.</param>
    /// <param name="cancellationToken">Cancels the task.</param>
    /// <returns>What each object became and the images built.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Apply =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoApplyAsync(_ =&gt; _.SetFile("k8s").SetImages(Published).SetNamespace("web")); });</code></example>
    public static Task<KoApplyResult> KoApplyAsync(Func<KoApplySettings, KoApplySettings> configurator, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        return KoApplyAsync(configurator(new KoApplySettings()), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoApply(KoCombinatorial{KoApplySettings}, int, bool)"/>.</summary>
    /// <param name="configurator">Makes the variants.</param>
    /// <param name="degreeOfParallelism">How many variants run at once.</param>
    /// <param name="completeOnFailure">Let the other variants finish when one fails.</param>
    /// <param name="cancellationToken">Cancels every variant.</param>
    /// <returns>Each variant's settings and result, in the variants' order.</returns>
    /// <exception cref="KoTaskException">A variant failed (<see cref="AggregateException"/> when several did).</exception>
    /// <example><code>Target Apply =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoApplyAsync(_ =&gt; _.SetFile("k8s").SetImages(Published).CombineWith(new[] { "staging", "prod" }, (_, ctx) =&gt; _.SetContext(ctx)), degreeOfParallelism: 2); });</code></example>
    public static Task<IReadOnlyList<(KoApplySettings Settings, KoApplyResult Result)>> KoApplyAsync(KoCombinatorial<KoApplySettings> configurator, int degreeOfParallelism = 1, bool completeOnFailure = false, CancellationToken cancellationToken = default) =>
        CombineAsync(configurator, new KoApplySettings(), KoApplyAsync, degreeOfParallelism, completeOnFailure, cancellationToken);


    /// <summary>Resolves the YAML files and creates their objects in the cluster (<c>ko create</c>).</summary>
    /// <param name="toolSettings">The files and settings; null means the defaults.</param>
    /// <returns>What each object became and the images built.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Create =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoCreate(new KoCreateSettings().SetFile("k8s").SetImages(Published)); });</code></example>
    public static KoApplyResult KoCreate(KoCreateSettings? toolSettings = null) => Sync(() => KoCreateAsync(toolSettings));

    /// <summary>Resolves the YAML files and creates their objects in the cluster (<c>ko create</c>), configured fluently.</summary>
    /// <param name="configurator">Changes the default settings.</param>
    /// <returns>What each object became and the images built.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Create =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoCreate(_ =&gt; _.SetFile("k8s").SetImages(Published)); });</code></example>
    public static KoApplyResult KoCreate(Func<KoCreateSettings, KoCreateSettings> configurator) => Sync(() => KoCreateAsync(configurator));

    /// <summary>Runs one KoCreate per variant, <paramref name="degreeOfParallelism"/> at a time.</summary>
    /// <param name="configurator">Makes the variants, e.g. with <c>CombineWith</c>.</param>
    /// <param name="degreeOfParallelism">How many variants run at once.</param>
    /// <param name="completeOnFailure">Let the other variants finish when one fails (else they are cancelled).</param>
    /// <returns>Each variant's settings and result, in the variants' order.</returns>
    /// <exception cref="KoTaskException">A variant failed (<see cref="AggregateException"/> when several did).</exception>
    /// <example><code>Target Create =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoCreate(_ =&gt; _.SetFile("k8s").SetImages(Published).CombineWith(new[] { "staging", "prod" }, (_, ctx) =&gt; _.SetContext(ctx)), degreeOfParallelism: 2); });</code></example>
    public static IReadOnlyList<(KoCreateSettings Settings, KoApplyResult Result)> KoCreate(KoCombinatorial<KoCreateSettings> configurator, int degreeOfParallelism = 1, bool completeOnFailure = false) =>
        Sync(() => KoCreateAsync(configurator, degreeOfParallelism, completeOnFailure));

    /// <summary>Async twin of <see cref="KoCreate(KoCreateSettings)"/>.</summary>
    /// <param name="toolSettings">The files and settings; null means the defaults.</param>
    /// <param name="cancellationToken">Cancels the task.</param>
    /// <returns>What each object became and the images built.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Create =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoCreateAsync(new KoCreateSettings().SetFile("k8s").SetImages(Published)); });</code></example>
    public static Task<KoApplyResult> KoCreateAsync(KoCreateSettings? toolSettings = null, CancellationToken cancellationToken = default)
    {
        toolSettings ??= new KoCreateSettings();
        return RunAsync(nameof(KoCreate), toolSettings, async (engine, ct) => (await engine.CreateAsync(toolSettings.ToApplyOptions(), ct).ConfigureAwait(false)).ToFace(), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoCreate(Func{KoCreateSettings, KoCreateSettings})"/>.</summary>
    /// <param name="configurator">Changes the default settings.</param>
    /// <param name="cancellationToken">Cancels the task.</param>
    /// <returns>What each object became and the images built.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Create =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoCreateAsync(_ =&gt; _.SetFile("k8s").SetImages(Published)); });</code></example>
    public static Task<KoApplyResult> KoCreateAsync(Func<KoCreateSettings, KoCreateSettings> configurator, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        return KoCreateAsync(configurator(new KoCreateSettings()), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoCreate(KoCombinatorial{KoCreateSettings}, int, bool)"/>.</summary>
    /// <param name="configurator">Makes the variants.</param>
    /// <param name="degreeOfParallelism">How many variants run at once.</param>
    /// <param name="completeOnFailure">Let the other variants finish when one fails.</param>
    /// <param name="cancellationToken">Cancels every variant.</param>
    /// <returns>Each variant's settings and result, in the variants' order.</returns>
    /// <exception cref="KoTaskException">A variant failed (<see cref="AggregateException"/> when several did).</exception>
    /// <example><code>Target Create =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoCreateAsync(_ =&gt; _.SetFile("k8s").SetImages(Published).CombineWith(new[] { "staging", "prod" }, (_, ctx) =&gt; _.SetContext(ctx)), degreeOfParallelism: 2); });</code></example>
    public static Task<IReadOnlyList<(KoCreateSettings Settings, KoApplyResult Result)>> KoCreateAsync(KoCombinatorial<KoCreateSettings> configurator, int degreeOfParallelism = 1, bool completeOnFailure = false, CancellationToken cancellationToken = default) =>
        CombineAsync(configurator, new KoCreateSettings(), KoCreateAsync, degreeOfParallelism, completeOnFailure, cancellationToken);


    /// <summary>Deletes the objects the YAML files describe; nothing is built (<c>ko delete</c>).</summary>
    /// <param name="toolSettings">The files and settings; null means the defaults.</param>
    /// <returns>What each object became.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Delete =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoDelete(new KoDeleteSettings().SetFile("k8s").SetNamespace("web")); });</code></example>
    public static KoApplyResult KoDelete(KoDeleteSettings? toolSettings = null) => Sync(() => KoDeleteAsync(toolSettings));

    /// <summary>Deletes the objects the YAML files describe; nothing is built (<c>ko delete</c>), configured fluently.</summary>
    /// <param name="configurator">Changes the default settings.</param>
    /// <returns>What each object became.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Delete =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoDelete(_ =&gt; _.SetFile("k8s").SetNamespace("web")); });</code></example>
    public static KoApplyResult KoDelete(Func<KoDeleteSettings, KoDeleteSettings> configurator) => Sync(() => KoDeleteAsync(configurator));

    /// <summary>Runs one KoDelete per variant, <paramref name="degreeOfParallelism"/> at a time.</summary>
    /// <param name="configurator">Makes the variants, e.g. with <c>CombineWith</c>.</param>
    /// <param name="degreeOfParallelism">How many variants run at once.</param>
    /// <param name="completeOnFailure">Let the other variants finish when one fails (else they are cancelled).</param>
    /// <returns>Each variant's settings and result, in the variants' order.</returns>
    /// <exception cref="KoTaskException">A variant failed (<see cref="AggregateException"/> when several did).</exception>
    /// <example><code>Target Delete =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoDelete(_ =&gt; _.SetFile("k8s").CombineWith(new[] { "staging", "prod" }, (_, ctx) =&gt; _.SetContext(ctx)), degreeOfParallelism: 2); });</code></example>
    public static IReadOnlyList<(KoDeleteSettings Settings, KoApplyResult Result)> KoDelete(KoCombinatorial<KoDeleteSettings> configurator, int degreeOfParallelism = 1, bool completeOnFailure = false) =>
        Sync(() => KoDeleteAsync(configurator, degreeOfParallelism, completeOnFailure));

    /// <summary>Async twin of <see cref="KoDelete(KoDeleteSettings)"/>.</summary>
    /// <param name="toolSettings">The files and settings; null means the defaults.</param>
    /// <param name="cancellationToken">Cancels the task.</param>
    /// <returns>What each object became.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Delete =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoDeleteAsync(new KoDeleteSettings().SetFile("k8s").SetNamespace("web")); });</code></example>
    public static Task<KoApplyResult> KoDeleteAsync(KoDeleteSettings? toolSettings = null, CancellationToken cancellationToken = default)
    {
        toolSettings ??= new KoDeleteSettings();
        return RunAsync(nameof(KoDelete), toolSettings, async (engine, ct) => (await engine.DeleteAsync(toolSettings.ToOptions(), ct).ConfigureAwait(false)).ToFace(), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoDelete(Func{KoDeleteSettings, KoDeleteSettings})"/>.</summary>
    /// <param name="configurator">Changes the default settings.</param>
    /// <param name="cancellationToken">Cancels the task.</param>
    /// <returns>What each object became.</returns>
    /// <exception cref="KoTaskException">The task failed; the message carries the KO code.</exception>
    /// <example><code>Target Delete =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoDeleteAsync(_ =&gt; _.SetFile("k8s").SetNamespace("web")); });</code></example>
    public static Task<KoApplyResult> KoDeleteAsync(Func<KoDeleteSettings, KoDeleteSettings> configurator, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        return KoDeleteAsync(configurator(new KoDeleteSettings()), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoDelete(KoCombinatorial{KoDeleteSettings}, int, bool)"/>.</summary>
    /// <param name="configurator">Makes the variants.</param>
    /// <param name="degreeOfParallelism">How many variants run at once.</param>
    /// <param name="completeOnFailure">Let the other variants finish when one fails.</param>
    /// <param name="cancellationToken">Cancels every variant.</param>
    /// <returns>Each variant's settings and result, in the variants' order.</returns>
    /// <exception cref="KoTaskException">A variant failed (<see cref="AggregateException"/> when several did).</exception>
    /// <example><code>Target Delete =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoDeleteAsync(_ =&gt; _.SetFile("k8s").CombineWith(new[] { "staging", "prod" }, (_, ctx) =&gt; _.SetContext(ctx)), degreeOfParallelism: 2); });</code></example>
    public static Task<IReadOnlyList<(KoDeleteSettings Settings, KoApplyResult Result)>> KoDeleteAsync(KoCombinatorial<KoDeleteSettings> configurator, int degreeOfParallelism = 1, bool completeOnFailure = false, CancellationToken cancellationToken = default) =>
        CombineAsync(configurator, new KoDeleteSettings(), KoDeleteAsync, degreeOfParallelism, completeOnFailure, cancellationToken);
}
