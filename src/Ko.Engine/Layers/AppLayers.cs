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

    /// <summary>Linux capability names by number (0 = CAP_CHOWN ... 40 = CAP_CHECKPOINT_RESTORE).</summary>
    private static readonly string[] CapabilityNames =
    [
        "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
        "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
        "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
        "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
        "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
        "checkpoint_restore",
    ];

    /// <summary>The capability bit mask of names such as <c>CAP_NET_BIND_SERVICE</c>, <c>net_bind_service</c> or a number.</summary>
    public static ulong CapabilityMask(IReadOnlyList<string> names, string where)
    {
        ulong mask = 0;
        foreach (var raw in names)
        {
            var n = raw.Trim().ToLowerInvariant();
            n = n.StartsWith("cap_", StringComparison.Ordinal) ? n[4..] : n;
            var bit = Array.IndexOf(CapabilityNames, n);
            if (bit < 0 && (!int.TryParse(n, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out bit) || bit >= CapabilityNames.Length))
            {
                throw new KoException("KO1102", $"{where}: '{raw}' is not a Linux capability; use names such as CAP_NET_BIND_SERVICE (see capabilities(7)).");
            }

            mask |= 1UL << bit;
        }

        return mask;
    }

    /// <summary>
    /// The <c>security.capability</c> xattr value (<c>vfs_cap_data</c>, revision 2, little-endian): magic
    /// 0x02000001 (revision 2, effective), then permitted/inheritable for bits 0–31 and 32–63. Permitted = the mask,
    /// inheritable = 0, as ko writes it.
    /// </summary>
    public static byte[] CapabilityXattr(ulong mask)
    {
        var bytes = new byte[20];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes, 0x02000001);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)mask);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), (uint)(mask >> 32));
        return bytes;
    }

    public const string CapabilityPaxKey = "SCHILY.xattr.security.capability";

    public static async Task<LayerOutcome> BinaryLayerAsync(ContentStore store, LayerCache cache, string binaryPath, string appName, long mtime, CancellationToken cancellationToken, IReadOnlyList<string>? capabilities = null)
    {
        var capMask = capabilities is { Count: > 0 } ? CapabilityMask(capabilities, "linux_capabilities") : 0UL;
        IReadOnlyDictionary<string, byte[]>? pax = capMask == 0 ? null : new Dictionary<string, byte[]>(StringComparer.Ordinal) { [CapabilityPaxKey] = CapabilityXattr(capMask) };
        string binaryHash;
        long size;
        await using (var stream = OpenRead(binaryPath))
        {
            size = stream.Length;
            binaryHash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }

        string[] keyParts = ["ko-binary-v2", AppDirectory, appName, binaryHash, size.ToString(System.Globalization.CultureInfo.InvariantCulture), mtime.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var key = capMask == 0 ? CacheKey.Of(keyParts) : CacheKey.Of([.. keyParts, "caps", capMask.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
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

                await tar.WriteEntryAsync(new TarEntry($"{AppDirectory.TrimStart('/')}/{appName}", TarEntryType.File, Mode0555, size, mtime) { PaxRecords = pax }, content, ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        await cache.PutAsync(key, layer, cancellationToken).ConfigureAwait(false);
        return new LayerOutcome(layer, false);
    }

    public static async Task<LayerOutcome> KodataLayerAsync(ContentStore store, LayerCache cache, string packageDirectory, long mtime, CancellationToken cancellationToken, string? allowedRoot = null)
    {
        var root = Path.Combine(packageDirectory, "kodata");
        var entries = KodataEntries(root, allowedRoot);
        var keyParts = new List<string> { "ko-kodata-v2", KodataRoot, mtime.ToString(System.Globalization.CultureInfo.InvariantCulture) };
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
    /// Where kodata symbolic links may point, as ko: <c>KO_DATA_PATH_ALLOWED_ROOT</c> when set, else the git work tree
    /// that holds the package (the nearest directory with <c>.git</c>), else the kodata directory itself.
    /// </summary>
    public static string KodataAllowedRoot(string packageDirectory, IReadOnlyDictionary<string, string?> environment)
    {
        if (environment.TryGetValue("KO_DATA_PATH_ALLOWED_ROOT", out var explicitRoot) && !string.IsNullOrWhiteSpace(explicitRoot))
        {
            return RealPath(Path.GetFullPath(explicitRoot));
        }

        for (var dir = new DirectoryInfo(Path.GetFullPath(packageDirectory)); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, ".git")) || File.Exists(Path.Combine(dir.FullName, ".git")))
            {
                return RealPath(dir.FullName);
            }
        }

        return RealPath(Path.Combine(Path.GetFullPath(packageDirectory), "kodata"));
    }

    /// <summary>
    /// Lists kodata/ in ordinal path order (the tar order), following symbolic links to files and directories whose
    /// real path lies under <paramref name="allowedRoot"/> (default: kodata/ itself). A link that escapes, points
    /// nowhere or loops, or anything that is not a file or directory, is an error naming it.
    /// </summary>
    internal static List<KodataEntry> KodataEntries(string root, string? allowedRoot = null)
    {
        var result = new List<KodataEntry>();
        if (!Directory.Exists(root))
        {
            return result;
        }

        Walk(root, string.Empty, [Path.GetFullPath(root)], result, RealPath(allowedRoot ?? Path.GetFullPath(root)));
        result.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        return result;
    }

    private static string RealPath(string path)
    {
        // Resolve symbolic links in every component, so "inside the root" compares real locations.
        var full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        var parts = full.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var current = Path.GetPathRoot(full) ?? "/";
        foreach (var part in parts)
        {
            current = Path.Combine(current, part);
            var info = new FileInfo(current);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
            {
                current = RealPath(target.FullName);
            }
        }

        return current;
    }

    private static bool IsInside(string path, string root) =>
        path == root || path.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static void Walk(string dir, string prefix, HashSet<string> ancestors, List<KodataEntry> result, string allowedRoot)
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

                var real = RealPath(resolved.FullName);
                if (!IsInside(real, allowedRoot))
                {
                    throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata entry {child.FullName} is a symbolic link to {real}, outside {allowedRoot}: ko follows links only inside the git work tree or KO_DATA_PATH_ALLOWED_ROOT. Copy the file into kodata/, or set KO_DATA_PATH_ALLOWED_ROOT to a directory that holds the target.");
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
                Walk(target.FullName, rel, ancestors, result, allowedRoot);
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
