using System.Text;
using CliWrap;
using CliWrap.Buffered;
using Ko.Cli;

namespace Ko.Engine.IntegrationTests;

/// <summary>Finds the real tools the integration tests use, and fails loudly when one is missing.</summary>
public static class Tools
{
    public static string Require(string name) => ToolPath.Require(name);

    public static async Task<BufferedCommandResult> RunAsync(string tool, IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? env = null, bool check = true)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var cmd = CliWrap.Cli.Wrap(Require(tool)).WithArguments(args).WithValidation(CommandResultValidation.None);
        if (workingDirectory is not null)
        {
            cmd = cmd.WithWorkingDirectory(workingDirectory);
        }

        if (env is not null)
        {
            cmd = cmd.WithEnvironmentVariables(env);
        }

        var result = await cmd.ExecuteBufferedAsync(timeout.Token);
        if (check && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} exited {result.ExitCode}:\n{result.StandardError}\n{result.StandardOutput}");
        }

        return result;
    }

    /// <summary>podman as it runs in this sandbox: runc, vfs, a private storage root, no default ulimits.</summary>
    public static Task<BufferedCommandResult> PodmanAsync(string storageRoot, IEnumerable<string> args, bool check = true)
    {
        // podman refuses a run root longer than 50 characters, so keep one short directory per storage root.
        var shortRoot = Path.Combine("/tmp", "kp-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(storageRoot)))[..10]);
        Require("runc");
        var conf = Environment.GetEnvironmentVariable("KO_TEST_CONTAINERS_CONF");
        if (string.IsNullOrEmpty(conf) || !File.Exists(conf))
        {
            conf = Path.Combine(storageRoot, "containers.conf");
            Directory.CreateDirectory(storageRoot);
            File.WriteAllText(conf, "[containers]\ndefault_ulimits = []\n");
        }

        var all = new List<string> { "--runtime", "runc", "--storage-driver", "vfs", "--root", Path.Combine(storageRoot, "root"), "--runroot", shortRoot };
        all.AddRange(args);
        return RunAsync("podman", all, env: new Dictionary<string, string?> { ["CONTAINERS_CONF"] = conf }, check: check);
    }

    public static Task<BufferedCommandResult> PodmanRunAsync(string storageRoot, string image, params string[] args) =>
        PodmanAsync(storageRoot, new[] { "run", "--rm", "--network=none", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=1000:1000", image }.Concat(args));
}


/// <summary>The repository's files (examples/hello) and in-process runs of the <c>dotnet ko</c> command line.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string HelloSource => System.IO.Path.Combine(Root, "examples", "hello");

    /// <summary>Copies examples/hello into <paramref name="destination"/>.</summary>
    public static string CopyHello(string destination)
    {
        CopyDirectory(HelloSource, destination);
        return destination;
    }

    public static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = System.IO.Path.Combine(destination, System.IO.Path.GetRelativePath(source, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>The process environment plus overrides (a null value removes a variable).</summary>
    public static Dictionary<string, string?> Environment(string cacheDir, IReadOnlyDictionary<string, string?>? extra = null)
    {
        Tools.Require("go");
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            env[(string)e.Key] = (string?)e.Value;
        }

        env["KOCACHE"] = cacheDir;
        env.Remove("KO_DOCKER_REPO");
        env.Remove("SOURCE_DATE_EPOCH");
        env.Remove("KO_DATA_DATE_EPOCH");
        env.Remove("KO_DEFAULTBASEIMAGE");
        env.Remove("KO_DEFAULTPLATFORMS");
        if (extra is not null)
        {
            foreach (var (k, v) in extra)
            {
                if (v is null)
                {
                    env.Remove(k);
                }
                else
                {
                    env[k] = v;
                }
            }
        }

        return env;
    }

    public sealed record KoRun(int ExitCode, string Stdout, string Stderr)
    {
        public IReadOnlyList<string> References => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    /// <summary>Runs <c>dotnet ko</c> in-process, with standard output and error captured.</summary>
    public static async Task<KoRun> KoAsync(IReadOnlyDictionary<string, string?> env, params string[] args)
    {
        var stdout = new StringWriter(new StringBuilder());
        var stderr = new StringWriter(new StringBuilder());
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var code = await KoCli.RunAsync(args, stdout, stderr, env, timeout.Token);
        return new KoRun(code, stdout.ToString(), stderr.ToString());
    }

    // From this source file's own path (known at compile time), so tests find the repository even when built
    // into another artifacts directory.
    private static string FindRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { Path.GetDirectoryName(sourceFile), AppContext.BaseDirectory })
        {
            var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start);
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "KoAddins.sln")))
            {
                dir = dir.Parent;
            }

            if (dir is not null)
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find the repository root (KoAddins.sln) above " + sourceFile);
    }
}
