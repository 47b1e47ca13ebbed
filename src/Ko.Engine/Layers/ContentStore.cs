using System.Security.Cryptography;
using Ko.Engine.Oci;

namespace Ko.Engine.Layers;

/// <summary>
/// The on-disk cache under <c>$KOCACHE</c> (else <c>~/.cache/ko</c>): content-addressed blobs in
/// <c>blobs/sha256/</c>, layer-cache entries in <c>layers/</c>, Go build outputs in <c>go/</c>, and a
/// <c>tmp/</c> folder on the same file system so finished files can be renamed into place.
/// </summary>
internal sealed class ContentStore
{
    /// <summary>
    /// Opens (creating) the cache at <paramref name="root"/> and removes what killed runs left in <c>tmp/</c>. A
    /// read-only cache serves hits; the first write it refuses is a KO3010 naming the file.
    /// </summary>
    public ContentStore(string root)
    {
        Root = Path.GetFullPath(root);
        if (File.Exists(Root))
        {
            throw new KoException(KoErrorCodes.CacheUnusable, $"the cache {Root} is a file, not a directory. Set KOCACHE to a directory (it is created if missing), or remove that file.");
        }

        try
        {
            Directory.CreateDirectory(Path.Combine(Root, "blobs", "sha256"));
            Directory.CreateDirectory(TempDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.CacheUnusable, $"the cache {Root} cannot be used: {Util.SystemMessage.Of(ex)} Set KOCACHE to a directory you can write to (it is created if missing).", ex);
        }

        Util.StaleTemporaries.RemoveFiles(Util.StaleTemporaries.Find(TempDirectory, "*"));
    }

    public string Root { get; }

    public string TempDirectory => Path.Combine(Root, "tmp");

    public string BlobPath(Digest digest) => Path.Combine(Root, "blobs", digest.Algorithm, digest.Hex);

    /// <summary>A new temporary path in <c>tmp/</c>; the name holds this process's id, so a later run can tell a dead run's leftovers.</summary>
    public string NewTempPath(string hint = "blob") => Path.Combine(TempDirectory, $"{hint}-{Util.StaleTemporaries.NameToken()}");

    /// <summary>
    /// Creates a temporary file for writing, held exclusively (so no clean-up takes it while it is written); a write
    /// that fails (a full disk, an I/O error) is a KO3010 naming the file.
    /// </summary>
    public Stream CreateTemp(string path)
    {
        try
        {
            return new CacheWriteStream(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous), path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw WriteFailed(path, ex);
        }
    }

    internal static KoException WriteFailed(string path, Exception ex) =>
        new(KoErrorCodes.CacheUnusable, $"cannot write {path} in the cache: {Util.SystemMessage.Of(ex)} Free space on that disk, or set KOCACHE to a writable directory with room.", ex);

    /// <summary>Moves a finished temp file into the store under its digest (another writer may have got there first).</summary>
    public string Commit(string tempPath, Digest digest)
    {
        var target = BlobPath(digest);
        try
        {
            if (Directory.Exists(target))
            {
                throw new KoException(KoErrorCodes.CacheUnusable, $"the cache holds a directory at {target}, where the blob {digest} belongs. Remove that directory (or the whole cache, {Root}) and run again.");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(tempPath, target, overwrite: true);
        }
        catch (IOException) when (File.Exists(target))
        {
            // Another writer holds the same content there (Windows refuses to replace a file in use).
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw WriteFailed(target, ex);
        }
        finally
        {
            Util.FileSystem.TryDelete(tempPath);
        }

        return target;
    }

    /// <summary>Writes small bytes (configs, manifests) into the store.</summary>
    public async Task<string> PutAsync(ReadOnlyMemory<byte> bytes, Digest digest, CancellationToken cancellationToken)
    {
        var target = BlobPath(digest);
        if (File.Exists(target) && new FileInfo(target).Length == bytes.Length && (await File.ReadAllBytesAsync(target, cancellationToken).ConfigureAwait(false)).AsSpan().SequenceEqual(bytes.Span))
        {
            return target;
        }

        var temp = NewTempPath();
        try
        {
            await using (var stream = CreateTemp(temp))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            Util.FileSystem.TryDelete(temp);
            throw;
        }

        return Commit(temp, digest);
    }

    /// <summary>True when the blob exists and its bytes hash to its digest; a blob that does not is deleted.</summary>
    public async Task<bool> VerifyAsync(Digest digest, long size, CancellationToken cancellationToken)
    {
        var path = BlobPath(digest);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return false;
        }

        bool ok;
        if (info.Length != size || digest.Algorithm != "sha256")
        {
            ok = false;
        }
        else
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
            ok = Convert.ToHexStringLower(hash) == digest.Hex;
        }

        if (!ok)
        {
            Util.FileSystem.TryDelete(path);
        }

        return ok;
    }

    public static string DefaultRoot(IReadOnlyDictionary<string, string?> environment)
    {
        if (environment.TryGetValue("KOCACHE", out var kocache) && !string.IsNullOrWhiteSpace(kocache))
        {
            return kocache;
        }

        if (environment.TryGetValue("XDG_CACHE_HOME", out var xdg) && !string.IsNullOrWhiteSpace(xdg))
        {
            return Path.Combine(xdg, "ko");
        }

        var home = environment.TryGetValue("HOME", out var h) && !string.IsNullOrWhiteSpace(h) ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".cache", "ko");
    }

}

/// <summary>Passes writes to a cache file; an I/O failure (a full disk) becomes a KO3010 that names the file.</summary>
internal sealed class CacheWriteStream(FileStream inner, string path) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => inner.Length;

    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try
        {
            inner.Write(buffer);
        }
        catch (IOException ex)
        {
            throw ContentStore.WriteFailed(path, ex);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw ContentStore.WriteFailed(path, ex);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
        try
        {
            inner.Flush();
        }
        catch (IOException ex)
        {
            throw ContentStore.WriteFailed(path, ex);
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw ContentStore.WriteFailed(path, ex);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            try
            {
                inner.Dispose();
            }
            catch (IOException ex)
            {
                throw ContentStore.WriteFailed(path, ex);
            }
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await inner.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw ContentStore.WriteFailed(path, ex);
        }

        GC.SuppressFinalize(this);
    }
}
