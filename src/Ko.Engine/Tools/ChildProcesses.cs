using Ko.Engine.Util;

namespace Ko.Engine.Tools;

/// <summary>Helpers for the child processes the engine starts.</summary>
internal static class ChildProcesses
{
    private static readonly Lazy<string[]> ProcessVariableNames = new(() =>
        System.Environment.GetEnvironmentVariables().Keys.Cast<string>().ToArray());

    /// <summary>
    /// The variables to give a child process so that it sees exactly <paramref name="environment"/> (then
    /// <paramref name="overrides"/>): variables of this process that the caller's environment lacks are removed, so
    /// a host (Cake, NUKE) decides what go, podman, kubectl and credential helpers see.
    /// </summary>
    public static Dictionary<string, string?> ExactEnvironment(IReadOnlyDictionary<string, string?> environment, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var effective = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in ProcessVariableNames.Value)
        {
            effective[name] = null;
        }

        foreach (var (k, v) in environment)
        {
            effective[k] = v;
        }

        if (overrides is not null)
        {
            foreach (var (k, v) in overrides)
            {
                effective[k] = v;
            }
        }

        return effective;
    }
}
