using System.Text;
using Ko.Engine.Configuration;
using Ko.Engine.Kubernetes;
using Ko.Engine.Manifests;
using Ko.Engine.Publishing;
using Microsoft.Extensions.Logging;
using Ko.Engine.Util;

namespace Ko.Engine;

public sealed partial class KoEngine
{
    /// <summary>
    /// Reads YAML and JSON manifests, builds every distinct <c>ko://</c> import path once (concurrently, bounded by
    /// <see cref="KoBuildOptions.Jobs"/>) and replaces each reference in the original text with the built image's
    /// reference; everything else in the files stays as written.
    /// </summary>
    /// <param name="options">The files, the label selector and how to build.</param>
    /// <param name="cancellationToken">Cancels reading and the builds.</param>
    /// <exception cref="KoException"><c>KO4xxx</c> for bad manifests or selectors; build errors name the file:line:column of the reference.</exception>
    public async Task<KoResolveResult> ResolveAsync(KoResolveOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var resolved = await ResolveCoreAsync(options, cancellationToken).ConfigureAwait(false);
        return new KoResolveResult(resolved.Text, resolved.Images);
    }

    /// <summary>
    /// Resolves the manifests and applies every object with server-side apply (field manager <c>ko</c>), namespaces
    /// and CustomResourceDefinitions first; or hands the resolved stream to <c>kubectl apply -f -</c>.
    /// </summary>
    /// <param name="options">The files, build settings and cluster settings.</param>
    /// <param name="cancellationToken">Cancels the builds and the requests.</param>
    /// <exception cref="KoException">A build, the cluster or an object failed; nothing after the first failure is applied.</exception>
    public Task<KoApplyResult> ApplyAsync(KoApplyOptions options, CancellationToken cancellationToken = default) =>
        SendAsync(options, apply: true, cancellationToken);

    /// <summary>Resolves the manifests and creates every object (POST), or hands them to <c>kubectl create -f -</c>.</summary>
    /// <param name="options">The files, build settings and cluster settings.</param>
    /// <param name="cancellationToken">Cancels the builds and the requests.</param>
    /// <exception cref="KoException">A build, the cluster or an object failed; nothing after the first failure is created.</exception>
    public Task<KoApplyResult> CreateAsync(KoApplyOptions options, CancellationToken cancellationToken = default) =>
        SendAsync(options, apply: false, cancellationToken);

    /// <summary>Deletes the objects the files describe (nothing is built), reporting each; missing objects are reported as <c>not found</c>.</summary>
    /// <param name="options">The files, selector and cluster settings.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <exception cref="KoException">The cluster refused; or an object was missing and <see cref="KoDeleteOptions.IgnoreNotFound"/> is false.</exception>
    public async Task<KoApplyResult> DeleteAsync(KoDeleteOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var selector = options.Selector is null ? null : LabelSelector.Parse(options.Selector);
        var files = await ManifestReader.ReadAsync(options.Files, options.Recursive, options.StandardInput, cancellationToken).ConfigureAwait(false);
        // Nothing is built: references stay as written.
        var unchanged = files.SelectMany(f => f.References).Select(r => r.ImportPath).Distinct(StringComparer.Ordinal).ToDictionary(p => p, p => YamlTree.Prefix + p, StringComparer.Ordinal);
        var objects = Objects(files.Select(f => (f.Source, f.Render(unchanged, selector))));

        // Dependents before what they live in: the reverse of the apply order's ranks, input order within a rank.
        var ordered = objects.OrderByDescending(o => o.Rank).ToList();
        if (!BuiltInClient.IsSupported)
        {
            var text = string.Join("\n---\n", files.Select(f => f.Render(unchanged, selector)));
            var cluster = new KubectlCluster(options.Kubeconfig, options.Context, options.Namespace, options.Environment ?? BuildPlan.ProcessEnvironment());
            return new KoApplyResult(await KubectlAsync("delete", text, cluster, [$"--ignore-not-found={(options.IgnoreNotFound ? "true" : "false")}"], cancellationToken).ConfigureAwait(false), []);
        }

        return new KoApplyResult(await DeleteInProcessAsync(options, ordered, cancellationToken).ConfigureAwait(false), []);
    }

    private async Task<List<KoObjectResult>> DeleteInProcessAsync(KoDeleteOptions options, List<KubeObject> ordered, CancellationToken cancellationToken)
    {
        using var client = KubeClient.Create(options.Kubeconfig, options.Context, options.Namespace, options.Environment ?? BuildPlan.ProcessEnvironment(), _logger);
        var results = new List<KoObjectResult>();
        foreach (var obj in ordered)
        {
            var result = await client.DeleteAsync(obj, options.IgnoreNotFound, cancellationToken).ConfigureAwait(false);
            _logger.LogInformation("{Object}", result.ToString());
            results.Add(result);
        }

        return results;
    }

    /// <summary>Resolve, plus the build statistics (tests assert each import path was built once).</summary>
    internal async Task<(string Text, IReadOnlyList<KoImageResult> Images, KoBuildStatistics? Statistics)> ResolveCoreAsync(KoResolveOptions options, CancellationToken cancellationToken)
    {
        var selector = options.Selector is null ? null : LabelSelector.Parse(options.Selector);
        var files = await ManifestReader.ReadAsync(options.Files, options.Recursive, options.StandardInput, cancellationToken).ConfigureAwait(false);

        // Every distinct import path once, in order of first appearance; the first site names it in errors.
        var firstSite = new Dictionary<string, (string Source, KoReferenceSite Site)>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            foreach (var site in file.References)
            {
                firstSite.TryAdd(site.ImportPath, (file.Source, site));
            }
        }

        var paths = firstSite.Keys.ToList();
        var references = new Dictionary<string, string>(StringComparer.Ordinal);
        IReadOnlyList<KoImageResult> images = [];
        KoBuildStatistics? statistics = null;
        var record = options.Images ?? (options.BuildRecordPath is null ? null : await Records.BuildRecord.ReadAsync(options.BuildRecordPath, cancellationToken).ConfigureAwait(false));
        if (record is not null)
        {
            // Deploy what was built: every reference comes from the record; nothing is built or pushed.
            images = FromRecord(record, paths, firstSite, references);
        }
        else if (paths.Count > 0)
        {
            _logger.LogInformation("Resolving {References} ko:// reference(s) to {Count} import path(s)", files.Sum(f => f.References.Count), paths.Count);
            KoBuildResult built;
            try
            {
                built = await BuildAsync(options.Build with { ImportPaths = paths }, cancellationToken).ConfigureAwait(false);
            }
            catch (KoException ex)
            {
                // The build says which import path failed (KoException.ImportPath); its first ko:// site is where to look.
                var culprit = ex.ImportPath is { } failed && firstSite.ContainsKey(failed) ? failed : paths.Count == 1 ? paths[0] : null;
                if (culprit is null)
                {
                    throw;
                }

                var (source, site) = firstSite[culprit];
                throw new KoException(ex.Code, $"{source}:{site.Line}:{site.Column}: ko://{culprit}: {ex.Message}", ex);
            }

            images = built.Images;
            statistics = built.Statistics;
            for (var i = 0; i < paths.Count; i++)
            {
                var image = built.Images.FirstOrDefault(r => r.ImportPath == paths[i]) ?? (built.Images.Count == paths.Count ? built.Images[i] : null);
                references[paths[i]] = image?.Reference ?? throw new KoException(KoErrorCodes.InvalidReference, $"ko://{paths[i]} was not built: the build returned no image for it.");
            }
        }

        var text = ManifestReader.Join(files.Select(f => f.Render(references, selector)));
        if (options.OutputPath is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            await AtomicOutput.WriteFileAsync(options.OutputPath, (s, ct) => s.WriteAsync(bytes, ct).AsTask(), cancellationToken).ConfigureAwait(false);
            _logger.LogInformation("Wrote {Path}", options.OutputPath);
        }

        return (text, images, statistics);
    }

    /// <summary>The recorded image of each import path, into <paramref name="references"/>; a missing one is KO4020 at its first reference.</summary>
    private List<KoImageResult> FromRecord(Records.BuildRecord record, IReadOnlyList<string> paths, Dictionary<string, (string Source, KoReferenceSite Site)> firstSite, Dictionary<string, string> references)
    {
        var images = new List<KoImageResult>();
        foreach (var path in paths)
        {
            if (!record.TryGet(path, out var image))
            {
                var (source, site) = firstSite[path];
                var held = record.Images.Count == 0 ? "no images" : string.Join(", ", record.Images.Take(5).Select(i => i.ImportPath)) + (record.Images.Count > 5 ? ", …" : string.Empty);
                throw new KoException(KoErrorCodes.BuildRecordMissingImage, $"{source}:{site.Line}:{site.Column}: ko://{path} is not in the build record {record.Source} (it holds {held}). Build that import path in the run that writes the record, or fix the reference.");
            }

            references[path] = image.Reference;
            images.Add(image);
        }

        _logger.LogInformation("Resolved {Count} import path(s) from the build record {Record}; nothing was built", paths.Count, record.Source);
        return images;
    }

    private async Task<KoApplyResult> SendAsync(KoApplyOptions options, bool apply, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var verb = apply ? "apply" : "create";
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var resolveTask = ResolveCoreAsync(options.Resolve, stop.Token);

        if (options.UseKubectl || !BuiltInClient.IsSupported)
        {
            var resolvedText = (await resolveTask.ConfigureAwait(false)).Text;
            var cluster = new KubectlCluster(options.Kubeconfig, options.Context, options.Namespace, options.Resolve.Build.Environment ?? BuildPlan.ProcessEnvironment());
            var objects = await KubectlAsync(verb, resolvedText, cluster, options.KubectlArguments, cancellationToken).ConfigureAwait(false);
            return new KoApplyResult(objects, (await resolveTask.ConfigureAwait(false)).Images);
        }

        return await SendInProcessAsync(options, apply, resolveTask, stop, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Applies or creates through the built-in client (absent from the native build: see <see cref="BuiltInClient"/>).</summary>
    private async Task<KoApplyResult> SendInProcessAsync(KoApplyOptions options, bool apply, Task<(string Text, IReadOnlyList<KoImageResult> Images, KoBuildStatistics? Statistics)> resolveTask, CancellationTokenSource stop, CancellationToken cancellationToken)
    {
        // Reach the cluster while the images build: when it cannot be used, the builds still running are cancelled.
        KubeClient client;
        try
        {
            var environment = options.Resolve.Build.Environment ?? BuildPlan.ProcessEnvironment();
            client = KubeClient.Create(options.Kubeconfig, options.Context, options.Namespace, environment, _logger);
            try
            {
                await client.CheckAsync(stop.Token).ConfigureAwait(false);
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }
        catch
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Pipeline.Stages.Quietly([resolveTask]).ConfigureAwait(false);
            throw;
        }

        using (client)
        {
            var resolved = await resolveTask.ConfigureAwait(false);
            var objects = KubeObject.ApplyOrder(Objects([("resolved manifests", resolved.Text)]));
            var results = new List<KoObjectResult>();
            var failures = new List<KoException>();
            foreach (var obj in objects)
            {
                try
                {
                    var result = apply
                        ? await client.ApplyAsync(obj, options.ForceConflicts, cancellationToken).ConfigureAwait(false)
                        : await client.CreateAsync(obj, cancellationToken).ConfigureAwait(false);
                    _logger.LogInformation("{Object}", result.ToString());
                    results.Add(result);
                }
                catch (KoException ex) when (options.ContinueOnError)
                {
                    _logger.LogError("{Error}", $"{ex.Code}: {ex.Message}");
                    failures.Add(ex);
                }
            }

            if (failures.Count > 0)
            {
                throw new KoException(
                    failures[0].Code,
                    $"{failures.Count} object(s) could not be sent ({results.Count} were): " + string.Join(" ", failures.Select(f => $"{f.Code}: {f.Message}")),
                    failures[0]);
            }

            return new KoApplyResult(results, resolved.Images);
        }
    }

    private static List<KubeObject> Objects(IEnumerable<(string Source, string Text)> rendered) =>
        rendered.SelectMany(r => KubeObject.From(ManifestFile.Parse(r.Source, r.Text))).ToList();

    /// <summary>The cluster flags kubectl gets, and the environment it runs in.</summary>
    private sealed record KubectlCluster(string? Kubeconfig, string? Context, string? Namespace, IReadOnlyDictionary<string, string?> Environment);

    private async Task<IReadOnlyList<KoObjectResult>> KubectlAsync(string verb, string text, KubectlCluster cluster, IReadOnlyList<string> extraArguments, CancellationToken cancellationToken)
    {
        var environment = cluster.Environment;
        var args = new List<string> { verb, "-f", "-" };
        if (cluster.Kubeconfig is not null)
        {
            args.AddRange(["--kubeconfig", cluster.Kubeconfig]);
        }

        if (cluster.Context is not null)
        {
            args.AddRange(["--context", cluster.Context]);
        }

        if (cluster.Namespace is not null)
        {
            args.AddRange(["--namespace", cluster.Namespace]);
        }

        args.AddRange(extraArguments);
        var kubectl = Tools.ExternalProgram.FindOnPath("kubectl", environment);
        if (kubectl is null)
        {
            throw new KoException(KoErrorCodes.KubectlFailed, BuiltInClient.IsSupported
                ? "--kubectl was given but kubectl is not on PATH: install kubectl or leave out --kubectl to use the built-in client."
                : $"kubectl is not on PATH: this native build of dotnet ko hands the objects to kubectl {verb}, as ko does. Install kubectl, or use the dotnet tool build (dotnet tool install Ko.Cli), which has a built-in client.");
        }

        _logger.LogInformation("Running kubectl {Arguments}", string.Join(' ', args));
        var advice = BuiltInClient.IsSupported ? "Check that kubectl is installed and executable, or leave out --kubectl to use the built-in client." : "Check that kubectl is installed and executable.";
        var start = new Tools.ProgramStart("kubectl", kubectl, args, Tools.ChildProcesses.ExactEnvironment(environment), KoErrorCodes.KubectlFailed, advice)
        {
            StandardInput = text,
        };
        var run = await Tools.ExternalProgram.RunAsync(start, cancellationToken).ConfigureAwait(false);

        if (run.ExitCode != 0)
        {
            throw new KoException(KoErrorCodes.KubectlFailed, $"kubectl {verb} exited {run.ExitCode}: {run.StandardError.Trim()}");
        }

        return run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(KubectlResultLine).OfType<KoObjectResult>().ToList();
    }

    /// <summary>
    /// One object from kubectl's output: <c>kind/name outcome</c> (apply, create) or <c>kind "name" outcome</c>
    /// (delete); null for any other line.
    /// </summary>
    internal static KoObjectResult? KubectlResultLine(string line)
    {
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        var slash = line.IndexOf('/', StringComparison.Ordinal);
        if (space > 0 && slash > 0 && slash < space)
        {
            return new KoObjectResult(line[..slash], line[(slash + 1)..space], null, line[(space + 1)..]);
        }

        var close = space > 0 && line.Length > space + 1 && line[space + 1] == '"' ? line.IndexOf('"', space + 2) : -1;
        return close > space + 2 && line.Length > close + 2
            ? new KoObjectResult(line[..space], line[(space + 2)..close], null, line[(close + 2)..])
            : null;
    }
}
