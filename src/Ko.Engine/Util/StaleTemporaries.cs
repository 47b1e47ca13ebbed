using System.Text.RegularExpressions;

namespace Ko.Engine.Util;

/// <summary>
/// Removes temporaries a killed run left behind (<c>kill -9</c> runs no clean-up): partial cache blobs in
/// <c>$KOCACHE/tmp</c>, <c>.NAME.tmp-*</c> beside outputs. A temporary is stale only when all of these hold: it was last
/// written before this process started (minus a margin, so one being renamed into place right now is never taken);
/// the process whose id is in its name (if any) is gone or started after that write (the id was reused); and no one
/// holds it open for writing (writers open their temporaries with <see cref="FileShare.None"/>, an advisory lock the
/// kernel drops when the writer dies).
/// </summary>
internal static partial class StaleTemporaries
{
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(10);

    private static readonly Lazy<DateTime> RunStarted = new(() =>
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.StartTime.ToUniversalTime();
    });

    /// <summary>The token to put in a temporary's name: this process's id and a unique part.</summary>
    public static string NameToken() => $"{Environment.ProcessId}-{Guid.NewGuid():N}";

    /// <summary>Removes the stale files among <paramref name="candidates"/>; a failure to remove one is not an error.</summary>
    public static void RemoveFiles(IEnumerable<string> candidates)
    {
        foreach (var path in candidates)
        {
            if (IsOldAndOwnerGone(path, new FileInfo(path).LastWriteTimeUtc))
            {
                TryRemoveUnlockedFile(path);
            }
        }
    }

    /// <summary>
    /// Removes <paramref name="candidates"/> (files or directory trees) that are old and whose owner is gone, without
    /// a lock probe: for temporaries that are only ever written under a lock the caller now holds.
    /// </summary>
    public static void RemoveUnderLock(IEnumerable<string> candidates)
    {
        foreach (var path in candidates)
        {
            var written = Directory.Exists(path) ? Directory.GetLastWriteTimeUtc(path) : File.GetLastWriteTimeUtc(path);
            if (IsOldAndOwnerGone(path, written))
            {
                FileSystem.TryDelete(path);
            }
        }
    }

    /// <summary>Entries of <paramref name="directory"/> matching <paramref name="pattern"/>; none when it cannot be listed.</summary>
    public static IEnumerable<string> Find(string directory, string pattern)
    {
        try
        {
            return Directory.Exists(directory) ? Directory.GetFileSystemEntries(directory, pattern) : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static bool IsOldAndOwnerGone(string path, DateTime lastWriteUtc)
    {
        if (lastWriteUtc > RunStarted.Value - Margin)
        {
            return false;
        }

        foreach (Match m in OwnerPid().Matches(Path.GetFileName(path)))
        {
            if (int.TryParse(m.Groups[1].ValueSpan, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) && MayHaveWritten(pid, lastWriteUtc))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// True when the process with id <paramref name="pid"/> is alive and started before the file was last written
    /// (give or take the margin: start times are coarse). This run did not write a file older than itself, and
    /// neither did a process that got the id later: a container gives its runs the same small ids every time, so a
    /// killed run's id usually belongs to a live process again. A start time that cannot be read counts as a writer.
    /// </summary>
    private static bool MayHaveWritten(int pid, DateTime lastWriteUtc)
    {
        if (pid == Environment.ProcessId)
        {
            return false;
        }

        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited && p.StartTime.ToUniversalTime() <= lastWriteUtc + Margin;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or NotSupportedException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    private static void TryRemoveUnlockedFile(string path)
    {
        if (UnixFileStatus.KindOf(path, followLinks: false) is not (FileKind.Regular or FileKind.Unknown) || !File.Exists(path))
        {
            return;
        }

        try
        {
            // Held open by a writer => its lock makes this throw; otherwise remove it while holding it.
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [GeneratedRegex(@"-(\d{1,10})-[0-9a-f]{32}")]
    private static partial Regex OwnerPid();
}
