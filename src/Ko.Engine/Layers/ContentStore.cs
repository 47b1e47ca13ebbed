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
    public ContentStore(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Path.Combine(Root, "blobs", "sha256"));
        Directory.CreateDirectory(TempDirectory);
    }

    public string Root { get; }

    public string TempDirectory => Path.Combine(Root, "tmp");

    public string BlobPath(Digest digest) => Path.Combine(Root, "blobs", digest.Algorithm, digest.Hex);

    public string NewTempPath(string hint = "blob") => Path.Combine(TempDirectory, $"{hint}-{Environment.ProcessId}-{Guid.NewGuid():N}");

    /// <summary>Moves a finished temp file into the store under its digest (another writer may have got there first).</summary>
    public string Commit(string tempPath, Digest digest)
    {
        var target = BlobPath(digest);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            File.Move(tempPath, target, overwrite: true);
        }
        catch (IOException) when (File.Exists(target))
        {
            File.Delete(tempPath);
        }

        return target;
    }

    /// <summary>Writes small bytes (configs, manifests) into the store.</summary>
    public async Task<string> PutAsync(ReadOnlyMemory<byte> bytes, Digest digest, CancellationToken cancellationToken)
    {
        var target = BlobPath(digest);
        if (File.Exists(target) && new FileInfo(target).Length == bytes.Length)
        {
            return target;
        }

        var temp = NewTempPath();
        await File.WriteAllBytesAsync(temp, bytes.ToArray(), cancellationToken).ConfigureAwait(false);
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
