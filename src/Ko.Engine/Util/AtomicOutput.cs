namespace Ko.Engine.Util;

/// <summary>
/// Writes outputs so that a failure leaves the previous file or directory untouched: content goes to a temp
/// sibling that is renamed over the target only when complete.
/// </summary>
internal static class AtomicOutput
{
    public static async Task WriteFileAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        var kind = Util.UnixFileStatus.KindOf(full, followLinks: true);
        if (kind is Util.FileKind.CharacterDevice or Util.FileKind.Fifo)
        {
            // /dev/stdout, /dev/null, a pipe: a stream to write into, never a node to rename a file over.
            await WriteInPlaceAsync(full, write, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (kind is Util.FileKind.BlockDevice or Util.FileKind.Socket)
        {
            throw new KoException(KoErrorCodes.OutputNotWritable, $"cannot write {full}: it is {Util.UnixFileStatus.Describe(kind)}. Name a regular file, a pipe or a character device such as /dev/stdout.");
        }

        var dir = EnsureParent(full);
        RemoveStaleTemporaries(full);
        var temp = TempPath(full);
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
            throw new KoException(KoErrorCodes.OutputNotWritable, $"cannot write {full}: {Util.SystemMessage.Of(ex)} Choose a writable location.", ex);
        }
        catch
        {
            Util.FileSystem.TryDelete(temp);
            throw;
        }
    }

    private static async Task WriteInPlaceAsync(string full, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 0);
            await write(stream, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.OutputNotWritable, $"cannot write {full}: {Util.SystemMessage.Of(ex)} Choose a writable location.", ex);
        }
    }

    /// <summary>A temporary beside <paramref name="fullPath"/>: <c>.NAME.tmp-PID-UNIQUE</c>.</summary>
    public static string TempPath(string fullPath) =>
        Path.Combine(Path.GetDirectoryName(fullPath)!, $".{Path.GetFileName(fullPath)}.tmp-{Util.StaleTemporaries.NameToken()}");

    /// <summary>Removes <c>.NAME.tmp-*</c> files beside the target that a killed run left (not a live run's, which it holds open).</summary>
    public static void RemoveStaleTemporaries(string fullPath) =>
        Util.StaleTemporaries.RemoveFiles(Util.StaleTemporaries.Find(Path.GetDirectoryName(fullPath)!, $".{Path.GetFileName(fullPath)}.tmp-*"));

    public static string EnsureParent(string fullPath)
    {
        var dir = Path.GetDirectoryName(fullPath) ?? throw new KoException(KoErrorCodes.OutputNotWritable, $"{fullPath} has no parent directory.");
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.OutputNotWritable, $"cannot create directory {dir}: {Util.SystemMessage.Of(ex)} Choose a writable location.", ex);
        }

        return dir;
    }

}
