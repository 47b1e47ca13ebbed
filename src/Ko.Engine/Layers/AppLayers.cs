using System.Security.Cryptography;
using Ko.Engine.Images;
using Ko.Engine.Oci;

namespace Ko.Engine.Layers;

/// <summary>The two layers ko adds to a base: <c>kodata/</c> at <c>/var/run/ko</c>, and the binary at <c>/ko-app/&lt;name&gt;</c>.</summary>
internal static class AppLayers
{
    public const string AppDirectory = "/ko-app";
    public const string KodataRoot = "/var/run/ko";
    private const int Mode0555 = 0x16d;

    /// <summary>Outcome of asking for a layer: the layer, and whether the cache supplied it.</summary>
    public readonly record struct LayerOutcome(FileLayer Layer, bool FromCache);

    public static async Task<LayerOutcome> BinaryLayerAsync(ContentStore store, LayerCache cache, string binaryPath, string appName, long mtime, CancellationToken cancellationToken)
    {
        string binaryHash;
        long size;
        await using (var stream = OpenRead(binaryPath))
        {
            size = stream.Length;
            binaryHash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }

        var key = CacheKey.Of("ko-binary-v1", AppDirectory, appName, binaryHash, size.ToString(System.Globalization.CultureInfo.InvariantCulture), mtime.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var cached = await cache.TryGetAsync(key, cancellationToken).ConfigureAwait(false);
        if (cached is not null)
        {
            return new LayerOutcome(cached, true);
        }

        var layer = await LayerWriter.WriteAsync(
            store,
            async (tar, ct) =>
            {
                await tar.WriteEntryAsync(new TarEntry(AppDirectory.TrimStart('/'), TarEntryType.Directory, Mode0555, 0, mtime), ct).ConfigureAwait(false);
                await using var content = OpenRead(binaryPath);
                if (content.Length != size)
                {
                    throw new IOException($"{binaryPath} changed while the image was being built.");
                }

                await tar.WriteEntryAsync(new TarEntry($"{AppDirectory.TrimStart('/')}/{appName}", TarEntryType.File, Mode0555, size, mtime), content, ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        await cache.PutAsync(key, layer, cancellationToken).ConfigureAwait(false);
        return new LayerOutcome(layer, false);
    }

    public static async Task<LayerOutcome> KodataLayerAsync(ContentStore store, LayerCache cache, string packageDirectory, long mtime, CancellationToken cancellationToken)
    {
        var root = Path.Combine(packageDirectory, "kodata");
        var entries = KodataEntries(root);
        var keyParts = new List<string> { "ko-kodata-v1", KodataRoot, mtime.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var e in entries)
        {
            keyParts.Add(e.RelativePath);
            if (e.SourcePath is null)
            {
                keyParts.Add("dir");
                continue;
            }

            await using var stream = OpenKodataFile(e.SourcePath);
            keyParts.Add(Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false)));
        }

        var key = CacheKey.Of([.. keyParts]);
        var cached = await cache.TryGetAsync(key, cancellationToken).ConfigureAwait(false);
        if (cached is not null)
        {
            return new LayerOutcome(cached, true);
        }

        var layer = await LayerWriter.WriteAsync(
            store,
            async (tar, ct) =>
            {
                var rootName = KodataRoot.TrimStart('/');
                await tar.WriteEntryAsync(new TarEntry(rootName, TarEntryType.Directory, Mode0555, 0, mtime), ct).ConfigureAwait(false);
                foreach (var e in entries)
                {
                    var name = rootName + "/" + e.RelativePath;
                    if (e.SourcePath is null)
                    {
                        await tar.WriteEntryAsync(new TarEntry(name, TarEntryType.Directory, Mode0555, 0, mtime), ct).ConfigureAwait(false);
                        continue;
                    }

                    await using var content = OpenKodataFile(e.SourcePath);
                    await tar.WriteEntryAsync(new TarEntry(name, TarEntryType.File, Mode0555, content.Length, mtime), content, ct).ConfigureAwait(false);
                }
            },
            cancellationToken).ConfigureAwait(false);
        await cache.PutAsync(key, layer, cancellationToken).ConfigureAwait(false);
        return new LayerOutcome(layer, false);
    }

    /// <summary>One kodata entry: a path relative to kodata/ (with '/'), and the file to read, or null for a directory.</summary>
    internal readonly record struct KodataEntry(string RelativePath, string? SourcePath);

    /// <summary>
    /// Lists kodata/ in ordinal path order (the tar order), following symbolic links to files and directories.
    /// A link that points nowhere, a loop, or anything that is not a file or directory is an error naming it.
    /// </summary>
    internal static List<KodataEntry> KodataEntries(string root)
    {
        var result = new List<KodataEntry>();
        if (!Directory.Exists(root))
        {
            return result;
        }

        Walk(root, string.Empty, [Path.GetFullPath(root)], result);
        result.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        return result;
    }

    private static void Walk(string dir, string prefix, HashSet<string> ancestors, List<KodataEntry> result)
    {
        IEnumerable<FileSystemInfo> children;
        try
        {
            children = new DirectoryInfo(dir).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false }).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata directory {dir} cannot be read: {ex.Message}. Fix its permissions or remove it.", ex);
        }

        foreach (var child in children)
        {
            var rel = prefix.Length == 0 ? child.Name : prefix + "/" + child.Name;
            FileSystemInfo target = child;
            if (child.LinkTarget is not null)
            {
                var resolved = child.ResolveLinkTarget(returnFinalTarget: true);
                if (resolved is null || !resolved.Exists)
                {
                    throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata entry {child.FullName} is a symbolic link to '{child.LinkTarget}', which does not exist. Fix or remove the link.");
                }

                target = resolved;
            }

            if (target is DirectoryInfo || (target.Attributes & FileAttributes.Directory) != 0)
            {
                var real = Path.GetFullPath(target.FullName);
                if (!ancestors.Add(real))
                {
                    throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata entry {child.FullName} links back to {real}, a directory that contains it; remove the loop.");
                }

                result.Add(new KodataEntry(rel, null));
                Walk(target.FullName, rel, ancestors, result);
                ancestors.Remove(real);
            }
            else
            {
                result.Add(new KodataEntry(rel, target.FullName));
            }
        }
    }

    private static FileStream OpenKodataFile(string path)
    {
        try
        {
            return OpenRead(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata file {path} cannot be read: {ex.Message}. Fix its permissions or remove it from kodata/.", ex);
        }
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
}
