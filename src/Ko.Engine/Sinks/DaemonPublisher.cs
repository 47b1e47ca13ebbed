using Ko.Engine.Images;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using Ko.Engine.Tools;
using Ko.Engine.Util;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Sinks;

/// <summary>
/// Loads built images into the local container engine, as ko's <c>--local</c> does: the docker daemon when one
/// answers, else podman. Each image is written as a docker-archive (a temp file in the content store, deleted
/// afterwards) and read with <c>load -i</c>; it is tagged <c>name:&lt;image digest hex&gt;</c> (the printed reference)
/// and <c>name:&lt;tag&gt;</c> for every tag. A daemon holds one platform per tag, so of an index the build machine's
/// image is loaded. The tools run with the caller's environment (<c>PATH</c>, <c>DOCKER_HOST</c>,
/// <c>CONTAINERS_CONF</c>, …); <c>KO_PODMAN_ARGS</c> adds podman global options (e.g. <c>--root DIR</c>).
/// </summary>
internal sealed class DaemonPublisher(ContentStore store, IReadOnlyDictionary<string, string?> environment, ILogger logger, IProgress<KoProgress>? progress)
{
    /// <summary>Extra podman global options, split on white space, placed before the podman command.</summary>
    public const string PodmanArgsVariable = "KO_PODMAN_ARGS";

    /// <summary>The stage progress reports carry, with the image name as subject.</summary>
    public const string Stage = "load";

    private static readonly TimeSpan DaemonProbeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A container engine: its name (<c>docker</c> or <c>podman</c>), binary and global options.</summary>
    internal sealed record Tool(string Name, string Path, IReadOnlyList<string> GlobalArgs);

    /// <summary>Loads every built image and returns its printed reference (<c>name:&lt;hex&gt;</c>) by image name.</summary>
    public async Task<IReadOnlyDictionary<string, string>> LoadAsync(IReadOnlyList<NamedArtifact> built, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(built);
        ArgumentNullException.ThrowIfNull(tags);
        var tool = await ChooseToolAsync(cancellationToken).ConfigureAwait(false);
        var host = Platform.Host();
        var entries = new List<(IImage Image, IReadOnlyList<string> RepoTags)>();
        var references = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var b in built)
        {
            var image = b.Image ?? b.Index!.Children.FirstOrDefault(i => host.Accepts(i.Platform)) ?? b.Index!.Children[0];
            if (b.Index is not null)
            {
                logger.LogInformation("{Tool} holds one platform per tag: loading the {Platform} image of {ImportPath}", tool.Name, image.Platform, b.ImportPath);
            }

            // Docker refuses upper-case repository names; ko lower-cases them too.
            var name = b.Name.ToLowerInvariant();
            var digestTag = $"{name}:{image.Digest.Hex}";
            references[b.Name] = digestTag;
            entries.Add((image, tags.Select(t => $"{name}:{t}").Prepend(digestTag).Distinct(StringComparer.Ordinal).ToList()));
        }

        var archive = store.NewTempPath("daemon") + ".tar";
        try
        {
            await DockerArchiveWriter.WriteAsync(archive, entries, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("Loading {Count} image(s) into {Tool} ({Path})", entries.Count, tool.Name, tool.Path);
            var result = await RunAsync(tool, ["load", "-i", archive], cancellationToken).ConfigureAwait(false);
            if (result.ExitCode != 0)
            {
                throw new KoException(KoErrorCodes.DaemonLoadFailed, $"{tool.Name} load failed (exit code {result.ExitCode}): {Describe(result)}. Check that {tool.Name} works for this user (try '{tool.Name} images').");
            }

            logger.LogDebug("{Tool} load: {Output}", tool.Name, result.StandardOutput.Trim());
        }
        finally
        {
            FileSystem.TryDelete(archive);
        }

        foreach (var b in built)
        {
            logger.LogInformation("Loaded {Reference} into {Tool}", references[b.Name], tool.Name);
            progress?.Report(new KoProgress(Stage, references[b.Name], 1, 1));
        }

        return references;
    }

    /// <summary>The docker daemon when <c>docker version</c> reaches it; else podman; else a KO3005 naming both.</summary>
    internal async Task<Tool> ChooseToolAsync(CancellationToken cancellationToken)
    {
        var docker = FindOnPath("docker");
        var dockerProblem = "docker is not on the PATH";
        if (docker is not null)
        {
            using var probeTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            probeTimeout.CancelAfter(DaemonProbeTimeout);
            var tool = new Tool("docker", docker, []);
            try
            {
                var probe = await RunAsync(tool, ["version", "--format", "{{.Server.Version}}"], probeTimeout.Token).ConfigureAwait(false);
                if (probe.ExitCode == 0)
                {
                    logger.LogInformation("Using the docker daemon (server {Version}) for --local", probe.StandardOutput.Trim());
                    return tool;
                }

                dockerProblem = $"the docker daemon does not answer: {Describe(probe)}";
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                dockerProblem = $"the docker daemon did not answer 'docker version' within {DaemonProbeTimeout.TotalSeconds:0} s";
            }
        }

        var podman = FindOnPath("podman");
        if (podman is not null)
        {
            var extra = environment.TryGetValue(PodmanArgsVariable, out var text) && !string.IsNullOrWhiteSpace(text)
                ? text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
                : [];
            logger.LogInformation("Using podman for --local ({Reason}){Extra}", dockerProblem, extra.Length > 0 ? $" with {PodmanArgsVariable}: {string.Join(' ', extra)}" : string.Empty);
            return new Tool("podman", podman, extra);
        }

        throw new KoException(KoErrorCodes.DaemonLoadFailed, $"cannot load images locally: {dockerProblem} and podman is not on the PATH. Start the docker daemon or install podman (on Debian: apt-get install podman), or push to a registry instead of --local.");
    }

    private string? FindOnPath(string name) => Tools.ExternalProgram.FindOnPath(name, environment);

    private async Task<ProgramResult> RunAsync(Tool tool, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        // The tool gets exactly the caller's environment: variables of this process the caller's lacks are removed.
        var all = tool.GlobalArgs.Concat(args).ToList();
        logger.LogDebug("{Tool} {Arguments}", tool.Path, string.Join(' ', all));
        var start = new ProgramStart(tool.Name, tool.Path, all, ChildProcesses.ExactEnvironment(environment), KoErrorCodes.DaemonLoadFailed, $"Check that {tool.Name} is installed and executable.");
        return await ExternalProgram.RunAsync(start, cancellationToken).ConfigureAwait(false);
    }

    private static string Describe(ProgramResult result)
    {
        var text = result.StandardError.Trim();
        if (text.Length == 0)
        {
            text = result.StandardOutput.Trim();
        }

        if (text.Length == 0)
        {
            return "(no output)";
        }

        return text.Length > 2000 ? text[..2000] + "…" : text;
    }
}
