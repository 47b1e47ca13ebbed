namespace Ko.Engine.Util;

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
