using System.Runtime.ExceptionServices;
using Ko.Engine;
using Serilog;

namespace Nuke.Ko;

/// <summary>
/// Ko as NUKE tool tasks: <c>using static Nuke.Ko.KoTasks;</c> then, in a target,
/// <c>KoBuild(_ =&gt; _.SetImportPath("./cmd/server").SetPlatforms("linux/amd64", "linux/arm64"))</c>.
/// Each task has three overloads, as NUKE's generated tasks: a settings object, a configurator, and a combinatorial
/// configurator that runs several variants with a degree of parallelism; and an async twin of each for async targets.
/// Messages go to Serilog's static <see cref="Log"/>; failures throw <see cref="KoTaskException"/> carrying the KO code.
/// </summary>
public static partial class KoTasks
{
    /// <summary>Builds import paths into images and pushes or writes them (<c>ko build</c>).</summary>
    /// <param name="toolSettings">What to build; null means the defaults (the current directory's package).</param>
    /// <returns>The images: references, digests, platforms, tags.</returns>
    /// <exception cref="KoTaskException">The build failed; the message carries the KO code.</exception>
    /// <example><code>Target Build =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoBuild(new KoBuildSettings().SetImportPath("./cmd/server").SetRepository("registry.example/team")); });</code></example>
    public static KoBuildResult KoBuild(KoBuildSettings? toolSettings = null) => Sync(() => KoBuildAsync(toolSettings));

    /// <summary>Builds import paths into images (<c>ko build</c>), configured fluently: <c>KoBuild(_ =&gt; _.SetImportPath("./cmd/app"))</c>.</summary>
    /// <param name="configurator">Changes the default settings.</param>
    /// <returns>The images: references, digests, platforms, tags.</returns>
    /// <exception cref="KoTaskException">The build failed; the message carries the KO code.</exception>
    /// <example><code>Target Build =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoBuild(_ =&gt; _.SetImportPath("./cmd/server").SetRepository("registry.example/team")); });</code></example>
    public static KoBuildResult KoBuild(Func<KoBuildSettings, KoBuildSettings> configurator) => Sync(() => KoBuildAsync(configurator));

    /// <summary>Runs one build per variant, <paramref name="degreeOfParallelism"/> at a time.</summary>
    /// <param name="configurator">Makes the variants, e.g. with <c>CombineWith</c>.</param>
    /// <param name="degreeOfParallelism">How many variants run at once.</param>
    /// <param name="completeOnFailure">Let the other variants finish when one fails (else they are cancelled).</param>
    /// <returns>Each variant's settings and result, in the variants' order.</returns>
    /// <exception cref="KoTaskException">A variant failed (<see cref="AggregateException"/> when several did).</exception>
    /// <example><code>Target Build =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoBuild(_ =&gt; _.SetRepository("registry.example/team").CombineWith(new[] { "./cmd/api", "./cmd/worker" }, (_, path) =&gt; _.SetImportPath(path)), degreeOfParallelism: 2); });</code></example>
    public static IReadOnlyList<(KoBuildSettings Settings, KoBuildResult Result)> KoBuild(KoCombinatorial<KoBuildSettings> configurator, int degreeOfParallelism = 1, bool completeOnFailure = false) =>
        Sync(() => KoBuildAsync(configurator, degreeOfParallelism, completeOnFailure));

    /// <summary>Async twin of <see cref="KoBuild(KoBuildSettings)"/>.</summary>
    /// <param name="toolSettings">What to build; null means the defaults.</param>
    /// <param name="cancellationToken">Cancels the build.</param>
    /// <returns>The images.</returns>
    /// <exception cref="KoTaskException">The build failed; the message carries the KO code.</exception>
    /// <example><code>Target Build =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoBuildAsync(new KoBuildSettings().SetImportPath("./cmd/server").SetRepository("registry.example/team")); });</code></example>
    public static Task<KoBuildResult> KoBuildAsync(KoBuildSettings? toolSettings = null, CancellationToken cancellationToken = default)
    {
        toolSettings ??= new KoBuildSettings();
        return RunAsync(nameof(KoBuild), toolSettings, async (engine, ct) => (await engine.BuildAsync(toolSettings.ToOptions(), ct).ConfigureAwait(false)).ToFace(), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoBuild(Func{KoBuildSettings, KoBuildSettings})"/>.</summary>
    /// <param name="configurator">Changes the default settings.</param>
    /// <param name="cancellationToken">Cancels the build.</param>
    /// <returns>The images.</returns>
    /// <exception cref="KoTaskException">The build failed; the message carries the KO code.</exception>
    /// <example><code>Target Build =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoBuildAsync(_ =&gt; _.SetImportPath("./cmd/server").SetRepository("registry.example/team")); });</code></example>
    public static Task<KoBuildResult> KoBuildAsync(Func<KoBuildSettings, KoBuildSettings> configurator, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        return KoBuildAsync(configurator(new KoBuildSettings()), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoBuild(KoCombinatorial{KoBuildSettings}, int, bool)"/>.</summary>
    /// <param name="configurator">Makes the variants.</param>
    /// <param name="degreeOfParallelism">How many variants run at once.</param>
    /// <param name="completeOnFailure">Let the other variants finish when one fails.</param>
    /// <param name="cancellationToken">Cancels every variant.</param>
    /// <returns>Each variant's settings and result, in the variants' order.</returns>
    /// <exception cref="KoTaskException">A variant failed (<see cref="AggregateException"/> when several did).</exception>
    /// <example><code>Target Build =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoBuildAsync(_ =&gt; _.SetRepository("registry.example/team").CombineWith(new[] { "./cmd/api", "./cmd/worker" }, (_, path) =&gt; _.SetImportPath(path)), degreeOfParallelism: 2); });</code></example>
    public static Task<IReadOnlyList<(KoBuildSettings Settings, KoBuildResult Result)>> KoBuildAsync(KoCombinatorial<KoBuildSettings> configurator, int degreeOfParallelism = 1, bool completeOnFailure = false, CancellationToken cancellationToken = default) =>
        CombineAsync(configurator, new KoBuildSettings(), KoBuildAsync, degreeOfParallelism, completeOnFailure, cancellationToken);

    /// <summary>Checks credentials against a registry and stores them as <c>docker login</c> does (<c>ko login</c>).</summary>
    /// <param name="toolSettings">The registry, user and password.</param>
    /// <returns>Where the credentials were stored (a config.json path or a credential helper).</returns>
    /// <exception cref="KoTaskException"><c>KO3004</c> when the registry refuses them; never with the password.</exception>
    /// <example><code>Target Login =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoLogin(new KoLoginSettings().SetRegistry("registry.example").SetUsername("ci").SetPassword(RegistryPassword)); });</code></example>
    public static string KoLogin(KoLoginSettings toolSettings) => Sync(() => KoLoginAsync(toolSettings));

    /// <summary>Stores registry credentials (<c>ko login</c>), configured fluently.</summary>
    /// <param name="configurator">Sets registry, user and password.</param>
    /// <returns>Where the credentials were stored.</returns>
    /// <exception cref="KoTaskException"><c>KO3004</c> when the registry refuses them; never with the password.</exception>
    /// <example><code>Target Login =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoLogin(_ =&gt; _.SetRegistry("registry.example").SetUsername("ci").SetPassword(RegistryPassword)); });</code></example>
    public static string KoLogin(Func<KoLoginSettings, KoLoginSettings> configurator) => Sync(() => KoLoginAsync(configurator));

    /// <summary>Logs in to several registries, <paramref name="degreeOfParallelism"/> at a time.</summary>
    /// <param name="configurator">Makes the variants.</param>
    /// <param name="degreeOfParallelism">How many run at once.</param>
    /// <param name="completeOnFailure">Let the others finish when one fails.</param>
    /// <returns>Each variant's settings and where its credentials went.</returns>
    /// <exception cref="KoTaskException">A login failed.</exception>
    /// <example><code>Target Login =&gt; _ =&gt; _.Executes(() =&gt; { var result = KoLogin(_ =&gt; _.SetUsername("ci").SetPassword(RegistryPassword).CombineWith(new[] { "a.example", "b.example" }, (_, r) =&gt; _.SetRegistry(r)), degreeOfParallelism: 2); });</code></example>
    public static IReadOnlyList<(KoLoginSettings Settings, string Result)> KoLogin(KoCombinatorial<KoLoginSettings> configurator, int degreeOfParallelism = 1, bool completeOnFailure = false) =>
        Sync(() => KoLoginAsync(configurator, degreeOfParallelism, completeOnFailure));

    /// <summary>Async twin of <see cref="KoLogin(KoLoginSettings)"/>.</summary>
    /// <param name="toolSettings">The registry, user and password.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>Where the credentials were stored.</returns>
    /// <exception cref="KoTaskException"><c>KO3004</c> when the registry refuses them.</exception>
    /// <example><code>Target Login =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoLoginAsync(new KoLoginSettings().SetRegistry("registry.example").SetUsername("ci").SetPassword(RegistryPassword)); });</code></example>
    public static Task<string> KoLoginAsync(KoLoginSettings toolSettings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(toolSettings);
        return RunAsync(nameof(KoLogin), toolSettings, (engine, ct) => engine.LoginAsync(toolSettings.ToOptions(), ct), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoLogin(Func{KoLoginSettings, KoLoginSettings})"/>.</summary>
    /// <param name="configurator">Sets registry, user and password.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>Where the credentials were stored.</returns>
    /// <exception cref="KoTaskException"><c>KO3004</c> when the registry refuses them.</exception>
    /// <example><code>Target Login =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoLoginAsync(_ =&gt; _.SetRegistry("registry.example").SetUsername("ci").SetPassword(RegistryPassword)); });</code></example>
    public static Task<string> KoLoginAsync(Func<KoLoginSettings, KoLoginSettings> configurator, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        return KoLoginAsync(configurator(new KoLoginSettings()), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoLogin(KoCombinatorial{KoLoginSettings}, int, bool)"/>.</summary>
    /// <param name="configurator">Makes the variants.</param>
    /// <param name="degreeOfParallelism">How many run at once.</param>
    /// <param name="completeOnFailure">Let the others finish when one fails.</param>
    /// <param name="cancellationToken">Cancels every variant.</param>
    /// <returns>Each variant's settings and where its credentials went.</returns>
    /// <exception cref="KoTaskException">A login failed.</exception>
    /// <example><code>Target Login =&gt; _ =&gt; _.Executes(async () =&gt; { var result = await KoLoginAsync(_ =&gt; _.SetUsername("ci").SetPassword(RegistryPassword).CombineWith(new[] { "a.example", "b.example" }, (_, r) =&gt; _.SetRegistry(r)), degreeOfParallelism: 2); });</code></example>
    public static Task<IReadOnlyList<(KoLoginSettings Settings, string Result)>> KoLoginAsync(KoCombinatorial<KoLoginSettings> configurator, int degreeOfParallelism = 1, bool completeOnFailure = false, CancellationToken cancellationToken = default) =>
        CombineAsync(configurator, new KoLoginSettings(), KoLoginAsync, degreeOfParallelism, completeOnFailure, cancellationToken);

    // The engine is async; NUKE's Executes(Action) is not. This is the one place that blocks, on a pool thread so no
    // synchronization context can deadlock it. Async targets (Executes(async () => ...)) should use the *Async twins.
    private static T Sync<T>(Func<Task<T>> run) => Task.Run(run).GetAwaiter().GetResult();

    private static async Task<T> RunAsync<T>(string task, KoSettings settings, Func<KoEngine, CancellationToken, Task<T>> run, CancellationToken cancellationToken)
    {
        // With Nuke.Ko's SourceContext, as every line the engine logs.
        Log.ForContext(Serilog.Core.Constants.SourceContextPropertyName, SerilogLoggerAdapter.SourceContext).Debug("{Task} with {Settings}", task, settings.ToString());
        // NUKE's ProcessExecutionTimeout: the task is cancelled after it, and fails with KO4022 (not a bare cancellation).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (settings.ProcessExecutionTimeout is { } milliseconds)
        {
            if (milliseconds <= 0)
            {
                throw new KoTaskException(KoErrorCodes.InvalidOption, $"{task}: ProcessExecutionTimeout is {milliseconds} ms; give a positive number of milliseconds, or ResetProcessExecutionTimeout() for no limit.");
            }

            timeout.CancelAfter(milliseconds);
        }

        try
        {
            return await run(new KoEngine(new SerilogLoggerAdapter()), timeout.Token).ConfigureAwait(false);
        }
        catch (KoException e)
        {
            throw new KoTaskException(e);
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new KoTaskException(KoErrorCodes.TaskTimedOut, $"{task} did not finish within its ProcessExecutionTimeout of {settings.ProcessExecutionTimeout} ms and was cancelled; raise it with SetProcessExecutionTimeout(...), or find what is slow (go build, the registry) in the log above.", e);
        }
    }

    private static async Task<IReadOnlyList<(TSettings Settings, TResult Result)>> CombineAsync<TSettings, TResult>(
        KoCombinatorial<TSettings> configurator,
        TSettings defaults,
        Func<TSettings, CancellationToken, Task<TResult>> run,
        int degreeOfParallelism,
        bool completeOnFailure,
        CancellationToken cancellationToken)
        where TSettings : KoSettings
    {
        ArgumentNullException.ThrowIfNull(configurator);
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        var variants = configurator(defaults).ToList();
        using var gate = new SemaphoreSlim(degreeOfParallelism);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        async Task<TResult> OneAsync(TSettings settings)
        {
            await gate.WaitAsync(failed.Token).ConfigureAwait(false);
            try
            {
                return await run(settings, failed.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException && !completeOnFailure)
            {
                await failed.CancelAsync().ConfigureAwait(false);
                throw;
            }
            finally
            {
                gate.Release();
            }
        }

        var tasks = variants.Select(OneAsync).ToList();
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Reported below: the variants' own failures, not the cancellations they caused.
        }

        var errors = tasks.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.InnerExceptions).Where(e => e is not OperationCanceledException).ToList();
        if (errors.Count == 1)
        {
            ExceptionDispatchInfo.Throw(errors[0]);
        }

        if (errors.Count > 1)
        {
            throw new AggregateException($"{errors.Count} of {variants.Count} variants failed: {string.Join("; ", errors.Select(e => e.Message))}", errors);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var results = new List<(TSettings Settings, TResult Result)>(variants.Count);
        for (var i = 0; i < variants.Count; i++)
        {
            results.Add((variants[i], await tasks[i].ConfigureAwait(false)));
        }

        return results;
    }
}
