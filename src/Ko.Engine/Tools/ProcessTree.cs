using System.Diagnostics;
using System.Globalization;

namespace Ko.Engine.Tools;

/// <summary>
/// Stops a child and everything it started, and waits until they are gone: go's compile and link steps are its
/// children, and SIGKILL takes effect only when the killed process next runs, so a cancelled run that returned right
/// after sending it could leave a compiler writing for a moment longer. Linux only (it reads <c>/proc</c>); elsewhere
/// the tree is killed without the wait.
/// </summary>
internal static class ProcessTree
{
    /// <summary>How long a cancelled run waits for the killed processes to end before it returns anyway.</summary>
    internal static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Kills <paramref name="pid"/> and its descendants while it is still the process <paramref name="identity"/>
    /// names (see <see cref="ChildRegistry.Identity"/>); returns the identities to wait for.
    /// </summary>
    public static IReadOnlyList<string> Kill(int pid, string? identity)
    {
        if (identity is null || ChildRegistry.Identity(pid) != identity)
        {
            return []; // ended already (its pid may be someone else's by now)
        }

        var tree = Descendants(pid);
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or AggregateException or NotSupportedException)
        {
            // Gone already, or (partly) not ours to kill.
        }

        return tree;
    }

    /// <summary>Waits until none of <paramref name="identities"/> runs any more (a zombie has ended), at most <see cref="ExitWait"/>.</summary>
    public static async Task WaitGoneAsync(IReadOnlyList<string> identities)
    {
        var clock = Stopwatch.StartNew();
        while (identities.Any(IsAlive) && clock.Elapsed < ExitWait)
        {
            await Task.Delay(5, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>pid-starttime identities of the process and every live descendant, parents first.</summary>
    internal static IReadOnlyList<string> Descendants(int pid)
    {
        if (!OperatingSystem.IsLinux() || ChildRegistry.Identity(pid) is not { } root)
        {
            return [];
        }

        var children = ChildrenByParent();
        var found = new List<string> { root };
        var queue = new Queue<int>([pid]);
        while (queue.Count > 0 && found.Count < 10_000)
        {
            foreach (var child in children.TryGetValue(queue.Dequeue(), out var list) ? list : [])
            {
                if (ChildRegistry.Identity(child) is { } identity)
                {
                    found.Add(identity);
                    queue.Enqueue(child);
                }
            }
        }

        return found;
    }

    private static bool IsAlive(string identity)
    {
        var pid = int.Parse(identity.AsSpan(0, identity.IndexOf('-', StringComparison.Ordinal)), NumberStyles.None, CultureInfo.InvariantCulture);
        return ChildRegistry.Identity(pid) == identity;
    }

    private static Dictionary<int, List<int>> ChildrenByParent()
    {
        var map = new Dictionary<int, List<int>>();
        string[] entries;
        try
        {
            entries = Directory.GetDirectories("/proc");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return map;
        }

        foreach (var entry in entries)
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && ParentOf(entry) is { } parent)
            {
                (map.TryGetValue(parent, out var list) ? list : map[parent] = []).Add(pid);
            }
        }

        return map;
    }

    private static int? ParentOf(string procEntry)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine(procEntry, "stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ', 3);
            return fields.Length >= 2 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid) ? ppid : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
