namespace KoAddins.TestSupport;

/// <summary>Finds the real tools the tests use (PATH, then the usual system folders), and fails loudly when one is missing.</summary>
public static class ToolPath
{
    public static string Require(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/usr/bin", "/sbin", "/usr/share/dotnet"]))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"prerequisite '{name}' is not installed: run ./test.sh, which installs git, go, docker-registry, skopeo, umoci, podman, runc and apache2-utils.");
    }
}
