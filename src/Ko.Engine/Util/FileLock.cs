using System.Diagnostics;

namespace Ko.Engine.Util;

/// <summary>
/// An exclusive lock between processes (and between writers in one process): a lock file opened with
/// <see cref="FileShare.None"/>, which .NET holds as an advisory <c>flock</c> on Unix (released by the kernel when the
/// holder exits, even after <c>kill -9</c>). Waiting is bounded and cancellable. The lock file is removed on release;
/// a waiter that locked a file already removed notices (it is no longer the file at the path) and tries again.
/// </summary>
internal sealed class FileLock : IDisposable
{
    /// <summary>How long a writer waits for another run's lock before giving up.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    private readonly FileStream _stream;
    private readonly string _path;
    private readonly bool _removeOnRelease;

    private FileLock(FileStream stream, string path, bool removeOnRelease)
    {
        _stream = stream;
        _path = path;
        _removeOnRelease = removeOnRelease;
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) for the lock file at <paramref name="lockPath"/>.</summary>
    /// <param name="lockPath">The lock file; its directory must exist.</param>
    /// <param name="what">What the lock guards, for messages ("the OCI layout /out/app").</param>
    /// <param name="timeout">The longest wait.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    public static async Task<FileLock> AcquireAsync(string lockPath, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var pause = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var stream = TryOpen(lockPath, what);
            if (stream is not null)
            {
                var mine = UnixFileStatus.IdentityOf(stream.SafeFileHandle);
                if (mine is null)
                {
                    // Identity cannot be told here: keep the file, so no waiter can lock a removed one.
                    return new FileLock(stream, lockPath, removeOnRelease: false);
                }

                if (UnixFileStatus.IdentityOf(lockPath) == mine)
                {
                    return new FileLock(stream, lockPath, removeOnRelease: true);
                }

                await stream.DisposeAsync().ConfigureAwait(false);
                continue;
            }

            if (clock.Elapsed >= timeout)
            {
                throw new KoException(KoErrorCodes.OutputLocked, $"another dotnet ko run is writing {what} (it holds the lock file {lockPath}) and did not finish within {timeout.TotalSeconds:0.#} s. Wait for that run to end and run again, or write to another path.");
            }

            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 200));
        }
    }

    /// <summary>True when the IOException says another handle holds the file (a lock, not a fault).</summary>
    public static bool IsHeldElsewhere(IOException ex) =>
        ex.HResult == 11 /* EAGAIN/EWOULDBLOCK from flock */ || ex.HResult == unchecked((int)0x80070020) /* ERROR_SHARING_VIOLATION */;

    public void Dispose()
    {
        if (_removeOnRelease)
        {
            // Removed while still held: a waiter that opened it before sees it is gone and opens the path again.
            FileSystem.TryDelete(_path);
        }

        _stream.Dispose();
    }

    private static FileStream? TryOpen(string lockPath, string what)
    {
        try
        {
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        }
        catch (IOException ex) when (IsHeldElsewhere(ex))
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.OutputNotWritable, $"cannot create the lock file {lockPath} for {what}: {SystemMessage.Of(ex)} Choose a location you can write to.", ex);
        }
    }
}
