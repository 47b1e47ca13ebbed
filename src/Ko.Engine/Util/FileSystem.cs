namespace Ko.Engine.Util;

/// <summary>File-system clean-up and best-effort cache writes that never throw.</summary>
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

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="bytes"/> whole (a temporary sibling renamed over it, so a
    /// reader sees the old file or the new one), creating its directory; false when it cannot. For cache files whose
    /// absence only costs the next run some work.
    /// </summary>
    public static bool TryReplace(string path, byte[] bytes)
    {
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        finally
        {
            TryDelete(temp);
        }
    }
}
