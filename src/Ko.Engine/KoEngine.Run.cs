using CliWrap;
using Ko.Engine.Configuration;
using Microsoft.Extensions.Logging;

namespace Ko.Engine;

public sealed partial class KoEngine
{
    /// <summary>
    /// ko's <c>run</c> (pkg/commands/run.go): builds and publishes the import paths, then runs
    /// <c>kubectl run &lt;pod&gt; --image &lt;reference&gt; --attach --rm --restart=Never --log-flush-frequency=1s
    /// &lt;KubectlArguments&gt;</c> for each image, one after another, with kubectl's output streamed to
    /// <see cref="KoRunOptions.Output"/> and <see cref="KoRunOptions.Error"/>. The pod is named after the last path
    /// element of the image's repository. kubectl is found on the build environment's <c>PATH</c>.
    /// </summary>
    /// <param name="options">What to build and the arguments for kubectl.</param>
    /// <param name="cancellationToken">Cancels the build, or stops kubectl.</param>
    /// <exception cref="KoException">A build failed; kubectl is missing or exited non-zero (KO4009).</exception>
    public async Task<KoRunResult> RunAsync(KoRunOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var environment = options.Build.Environment ?? BuildPlan.ProcessEnvironment();
        // Found before anything is built or pushed: a missing kubectl should not cost a build.
        var kubectl = FindKubectl(environment);
        var built = await BuildAsync(options.Build, cancellationToken).ConfigureAwait(false);
        var commands = new List<IReadOnlyList<string>>();
        foreach (var image in built.Images)
        {
            _logger.LogInformation("Running {ImportPath}", image.ImportPath);
            var args = RunArguments(image.Reference, options.KubectlArguments);
            commands.Add(args);
            _logger.LogInformation("$ kubectl {Arguments}", string.Join(' ', args));
            var code = await RunStreamingAsync(kubectl, args, environment, options.Output, options.Error, cancellationToken).ConfigureAwait(false);
            if (code != 0)
            {
                throw new KoException(KoErrorCodes.KubectlFailed, $"kubectl run exited {code} for {image.Reference}; its output above says why.") { ImportPath = image.ImportPath };
            }
        }

        return new KoRunResult(built, commands);
    }

    /// <summary>The arguments after <c>kubectl</c> for one image, in ko's order.</summary>
    internal static IReadOnlyList<string> RunArguments(string reference, IReadOnlyList<string> kubectlArguments)
    {
        var repository = Pipeline.ResultStage.RepositoryOf(reference).TrimEnd('/');
        var pod = repository[(repository.LastIndexOf('/') + 1)..];
        return ["run", pod, "--image", reference, "--attach", "--rm", "--restart=Never", "--log-flush-frequency=1s", .. kubectlArguments];
    }

    private static string FindKubectl(IReadOnlyDictionary<string, string?> environment) =>
        Tools.ExternalProgram.FindOnPath("kubectl", environment)
        ?? throw new KoException(KoErrorCodes.KubectlFailed, "kubectl is not on PATH: run hands the built image to `kubectl run`, as ko does; install kubectl (on Debian: apt-get install kubernetes-client) or put it on PATH.");

    // kubectl run --attach streams the pod's log: its output is passed on line by line, not collected.
    private static async Task<int> RunStreamingAsync(string kubectl, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> environment, TextWriter? output, TextWriter? error, CancellationToken cancellationToken)
    {
        var start = new Tools.ProgramStart("kubectl", kubectl, args, Tools.ChildProcesses.ExactEnvironment(environment), KoErrorCodes.KubectlFailed, "Check that kubectl is installed and executable.");
        var command = Cli.Wrap(kubectl)
            .WithArguments(args)
            .WithEnvironmentVariables(start.Environment)
            .WithStandardInputPipe(PipeSource.Null)
            .WithStandardOutputPipe(output is null ? PipeTarget.Null : PipeTarget.ToDelegate(line => output.WriteLine(line)))
            .WithStandardErrorPipe(error is null ? PipeTarget.Null : PipeTarget.ToDelegate(line => error.WriteLine(line)))
            .WithValidation(CommandResultValidation.None);
        try
        {
            var result = await command.ExecuteAsync(cancellationToken).ConfigureAwait(false);
            return result.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw Tools.ExternalProgram.StartFailure(start, ex);
        }
    }
}
