namespace Ko.Engine.Publishing;

/// <summary>
/// Writes outputs so that a failure leaves the previous file or directory untouched: content goes to a temp
/// sibling that is renamed over the target only when complete.
/// </summary>
internal static class AtomicOutput
{
    public static async Task WriteFileAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        var dir = EnsureParent(full);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.tmp-{Guid.NewGuid():N}");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Util.FileSystem.TryDelete(temp);
            throw new KoException(KoErrorCodes.OutputNotWritable, $"cannot write {full}: {ex.Message}. Choose a writable location.", ex);
        }
        catch
        {
            Util.FileSystem.TryDelete(temp);
            throw;
        }
    }

    public static string EnsureParent(string fullPath)
    {
        var dir = Path.GetDirectoryName(fullPath) ?? throw new KoException(KoErrorCodes.OutputNotWritable, $"{fullPath} has no parent directory.");
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.OutputNotWritable, $"cannot create directory {dir}: {ex.Message}. Choose a writable location.", ex);
        }

        return dir;
    }

}
