using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

using Ko.Engine.Util;

namespace Ko.Engine.Tools;

/// <summary>
/// Records the programs a run starts (go and, through it, the compiler and linker) in the cache, so that a later run
/// can stop those a killed run left behind: a run killed with SIGKILL cannot stop its children, and an orphaned
/// <c>go build</c> keeps compiling and writing into the cache. Each run has a directory named by its pid, its start
/// time and the boot ID; each child a file named by its pid and start time, removed when the child has ended. A run
/// that finds a directory whose owner is gone kills the tree of every listed child that is still the same process
/// (same pid, start time, boot and PID namespace) and removes the directory; runs in other PID namespaces (containers
/// sharing the cache) are left alone. Linux only (it reads <c>/proc</c>); elsewhere nothing
/// is recorded.
/// </summary>
internal sealed class ChildRegistry
{
    private readonly string? _ownDirectory;

    private ChildRegistry(string? ownDirectory) => _ownDirectory = ownDirectory;

    /// <summary>Stops what dead runs left under <paramref name="directory"/>, then returns this run's registry there.</summary>
    public static ChildRegistry Open(string directory, ILogger logger)
    {
        if (!OperatingSystem.IsLinux() || Identity(System.Environment.ProcessId) is not { } self)
        {
            return new ChildRegistry(null);
        }

        Sweep(directory, logger);
        return new ChildRegistry(Path.Combine(directory, self));
    }

    /// <summary>
    /// Records a started child by its <see cref="Identity"/> (read once by the caller, who also needs it to stop the
    /// child) until the returned handle is disposed (when the child has ended).
    /// </summary>
    public IDisposable Register(string? identity)
    {
        if (_ownDirectory is null || identity is not { } child)
        {
            return Nothing.Instance;
        }

        var file = Path.Combine(_ownDirectory, child);
        try
        {
            Directory.CreateDirectory(_ownDirectory);
            File.WriteAllBytes(file, []);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Nothing.Instance; // an unwritable cache is reported by the build itself
        }

        return new Entry(file);
    }

    /// <summary>Kills the recorded children of runs that are gone, and forgets those runs.</summary>
    internal static void Sweep(string directory, ILogger logger)
    {
        string[] owners;
        try
        {
            owners = Directory.Exists(directory) ? Directory.GetDirectories(directory) : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (var owner in owners)
        {
            var name = Path.GetFileName(owner);
            if (!TryParse(name, out var ownerPid) || !name.EndsWith(Scope.Value, StringComparison.Ordinal) || Identity(ownerPid) == name)
            {
                continue; // not ours, a run on another boot or in another PID namespace (a container sharing the cache), or a live run
            }

            foreach (var childFile in SafeFiles(owner))
            {
                var child = Path.GetFileName(childFile);
                if (TryParse(child, out var pid) && Identity(pid) == child)
                {
                    logger.LogWarning("Stopping process {Pid} ({Command}), left running by a ko run that was killed", pid, CommandLine(pid));
                    KillTree(pid);
                }

                FileSystem.TryDelete(childFile);
            }

            try
            {
                Directory.Delete(owner);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A run that is registering right now; the next sweep takes it.
            }
        }
    }

    /// <summary>pid-starttime-bootid-pidns of a live process, or null when it does not exist (or has ended).</summary>
    internal static string? Identity(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length < 20 || fields[0] == "Z")
            {
                return null;
            }

            return $"{pid}-{fields[19]}{Scope.Value}";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>"-BOOTID-PIDNS": pids and start times mean something only on this boot and in this PID namespace.</summary>
    private static readonly Lazy<string> Scope = new(() =>
    {
        try
        {
            var boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim().Replace("-", string.Empty, StringComparison.Ordinal);
            var ns = new FileInfo("/proc/self/ns/pid").LinkTarget ?? "none";
            return $"-{boot}-{new string(ns.Where(char.IsAsciiDigit).ToArray())}";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "-unknown-unknown";
        }
    });

    private static bool TryParse(string name, out int pid)
    {
        var dash = name.IndexOf('-', StringComparison.Ordinal);
        pid = 0;
        return dash > 0 && int.TryParse(name.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out pid) && pid > 1;
    }

    private static string[] SafeFiles(string directory)
    {
        try
        {
            return Directory.GetFiles(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static void KillTree(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or AggregateException)
        {
            // Gone meanwhile, or not ours to kill.
        }
    }

    private static string CommandLine(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
            return text.Length > 200 ? text[..200] + "…" : text;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }

    /// <summary>A recorded child; the run's directory stays (empty) until a later run finds the run gone and removes it.</summary>
    private sealed class Entry(string file) : IDisposable
    {
        public void Dispose() => FileSystem.TryDelete(file);
    }

    private sealed class Nothing : IDisposable
    {
        public static readonly Nothing Instance = new();

        public void Dispose()
        {
        }
    }
}
