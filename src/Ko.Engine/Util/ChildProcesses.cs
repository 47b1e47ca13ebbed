namespace Ko.Engine.Util;

/// <summary>Helpers for the processes and files the engine works with.</summary>
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

/// <summary>File-system clean-up that never throws.</summary>
internal static class FileSystem
{
    /// <summary>Deletes a file or a directory tree if it can; a failure to clean up is never the error to report.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
