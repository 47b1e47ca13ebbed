namespace Ko.Engine.Signing;

/// <summary>Writes key files: beside the target, moved into place only when complete, never replacing a file.</summary>
internal static class KeyFiles
{
    /// <summary>Writes <paramref name="bytes"/> to the new file <paramref name="path"/> with <paramref name="mode"/> (from its creation on).</summary>
    public static async Task WriteNewAsync(string path, byte[] bytes, UnixFileMode mode, CancellationToken cancellationToken)
    {
        var dir = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = mode;
            }

            await using (var stream = new FileStream(temp, options))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, path, overwrite: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new KoException(KoErrorCodes.OutputNotWritable, $"cannot write {path}: {Util.SystemMessage.Of(ex)} Choose a writable location (or remove the file that is there).", ex);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the temporary holds no secret in the clear (the private key is encrypted).
        }
    }
}
