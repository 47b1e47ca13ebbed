using Ko.Engine.Configuration;
using Ko.Engine.Tools;
using Ko.Engine.Util;

namespace Ko.Engine;

public sealed partial class KoEngine
{
    /// <summary>
    /// Runs <c>kubectl delete ARGUMENTS…</c> (found on the environment's <c>PATH</c>, seeing exactly that environment), as
    /// ko's <c>delete</c> passes arguments it does not handle itself to kubectl. A non-zero exit is returned, not thrown.
    /// </summary>
    /// <param name="arguments">The arguments after <c>delete</c>, each passed as one argument (no shell).</param>
    /// <param name="environment">kubectl's environment (<c>PATH</c>, <c>KUBECONFIG</c>…); null means the process's.</param>
    /// <param name="cancellationToken">Cancels the run; kubectl and its children are stopped.</param>
    /// <returns>kubectl's exit code and (bounded) output.</returns>
    /// <exception cref="KoException">KO4009 when kubectl is not on <c>PATH</c> or cannot be started.</exception>
    public async Task<KoProgramResult> KubectlDeleteAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var env = environment ?? BuildPlan.ProcessEnvironment();
        var kubectl = ExternalProgram.FindOnPath("kubectl", env);
        if (kubectl is null)
        {
            throw new KoException(KoErrorCodes.KubectlFailed, "kubectl is not on PATH: delete with these arguments is kubectl's (as in ko); install kubectl, or name the objects with -f FILE for the built-in delete.");
        }

        var start = new ProgramStart("kubectl", kubectl, ["delete", .. arguments], ChildProcesses.ExactEnvironment(env), KoErrorCodes.KubectlFailed, "Check that kubectl is installed and executable.");
        var run = await ExternalProgram.RunAsync(start, cancellationToken).ConfigureAwait(false);
        return new KoProgramResult(run.ExitCode, run.StandardOutput, run.StandardError);
    }
}
