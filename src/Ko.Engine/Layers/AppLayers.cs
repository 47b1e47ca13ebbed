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
                // The archived bytes must be the ones hashed for the cache key (a concurrent `go build` may rewrite
                // the file), or the cache would hold a layer under a key that does not describe it.
                var changed = new KoException(KoErrorCodes.BuildFailed, $"the Go binary {binaryPath} changed while the image was being built (another build writing it at the same time?). Run the build again.");
                await using var content = OpenRead(binaryPath);
                var hashing = new HashingReadStream(content);
                await using (hashing.ConfigureAwait(false))
                {
                    try
                    {
                        await tar.WriteEntryAsync(new TarEntry($"{AppDirectory.TrimStart('/')}/{appName}", TarEntryType.File, Mode0555, size, mtime) { PaxRecords = pax }, hashing, ct).ConfigureAwait(false);
                    }
                    catch (IOException)
                    {
                        throw changed;
                    }

                    if (await hashing.ReadAsync(new byte[1], ct).ConfigureAwait(false) != 0 || hashing.FinishHex() != binaryHash)
                    {
                        throw changed;
                    }
                }
            },
            cache.Compression,
            cancellationToken).ConfigureAwait(false);
        await cache.PutAsync(key, layer, cancellationToken).ConfigureAwait(false);
        return new LayerOutcome(layer, false);
    }

    public static async Task<LayerOutcome> KodataLayerAsync(ContentStore store, LayerCache cache, string packageDirectory, long mtime, CancellationToken cancellationToken, string? allowedRoot = null)
    {
        var root = Path.Combine(packageDirectory, "kodata");
        var entries = KodataEntries(root, allowedRoot);
        var statKey = KodataStatKey(entries, mtime);
        if (statKey is not null && await cache.TryGetAsync(statKey, cancellationToken).ConfigureAwait(false) is { } unchanged)
        {
            return new LayerOutcome(unchanged, true);
        }

        var keyParts = new List<string> { "ko-kodata-v2", KodataRoot, mtime.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            keyParts.Add(e.RelativePath);
            if (e.SourcePath is null)
            {
                keyParts.Add("dir");
                continue;
            }

            await using var stream = OpenKodataFile(e.SourcePath);
            var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
            hashes[e.RelativePath] = hash;
            keyParts.Add(hash);
        }

        var key = CacheKey.Of([.. keyParts]);
        var cached = await cache.TryGetAsync(key, cancellationToken).ConfigureAwait(false);
        if (cached is not null)
        {
            await PutStatKeyAsync(cache, statKey, cached, cancellationToken).ConfigureAwait(false);
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

                    await ArchiveKodataFileAsync(tar, e, name, hashes[e.RelativePath], mtime, ct).ConfigureAwait(false);
                }
            },
            cache.Compression,
            cancellationToken).ConfigureAwait(false);
        await cache.PutAsync(key, layer, cancellationToken).ConfigureAwait(false);
        await PutStatKeyAsync(cache, statKey, layer, cancellationToken).ConfigureAwait(false);
        return new LayerOutcome(layer, false);
    }

    /// <summary>
    /// A key for the kodata layer from stat fingerprints alone, as git's index keys a tree (path, device, inode, mode,
    /// size, modification and change time of every file, and of every link on the way), so an unchanged tree is
    /// not read at all. Null when any fingerprint cannot be told or is too recent to be trusted to catch the next
    /// write (the content key decides then).
    /// </summary>
    internal static string? KodataStatKey(IReadOnlyList<KodataEntry> entries, long mtime)
    {
        var now = DateTimeOffset.UtcNow;
        var parts = new List<string>(1 + (entries.Count * 3)) { "ko-kodata-stat-v1", KodataRoot, mtime.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var e in entries)
        {
            parts.Add(e.RelativePath);
            if (e.SourcePath is null)
            {
                parts.Add("dir");
                continue;
            }

            var self = Util.UnixFileStatus.FingerprintOf(e.SourcePath, followLinks: false);
            var target = Util.UnixFileStatus.FingerprintOf(e.SourcePath, followLinks: true);
            if (self is not { } s || target is not { } t || s.IsRacy(now) || t.IsRacy(now))
            {
                return null;
            }

            parts.Add(s.ToString());
            parts.Add(t.ToString());
        }

        return CacheKey.Of([.. parts]);
    }

    private static Task PutStatKeyAsync(LayerCache cache, string? statKey, FileLayer layer, CancellationToken cancellationToken) =>
        statKey is null ? Task.CompletedTask : cache.PutAsync(statKey, layer, cancellationToken);

    /// <summary>
    /// Archives one kodata file and checks that the archived bytes are the ones hashed for the cache key: a file that
    /// changed in between (or that says it is empty and is not, as /proc files) would otherwise put a layer in the
    /// cache under a key that does not describe it.
    /// </summary>
    private static async Task ArchiveKodataFileAsync(DeterministicTarWriter tar, KodataEntry e, string name, string hashedAs, long mtime, CancellationToken ct)
    {
        var changed = $"kodata/{e.RelativePath} ({e.SourcePath}) changed while the image was being built (its bytes differ from the ones read a moment before). Run the build again when nothing is writing to kodata/; a file whose contents change on every read (such as one under /proc) cannot be packaged.";
        await using var content = OpenKodataFile(e.SourcePath!);
        var hashing = new HashingReadStream(content);
        await using (hashing.ConfigureAwait(false))
        {
            try
            {
                await tar.WriteEntryAsync(new TarEntry(name, TarEntryType.File, Mode0555, content.Length, mtime), hashing, ct).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new KoException(KoErrorCodes.KodataUnreadable, changed + $" ({Util.SystemMessage.Of(ex)})", ex);
            }

            // The tar holds exactly the length seen at open; bytes beyond it (a file that grew) are a change too.
            var extra = await hashing.ReadAsync(new byte[1], ct).ConfigureAwait(false);
            if (extra != 0 || hashing.FinishHex() != hashedAs)
            {
                throw new KoException(KoErrorCodes.KodataUnreadable, changed);
            }
        }
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
            if (info.LinkTarget is not null && ResolveLink(info) is { } target)
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
            throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata directory {dir} cannot be read: {Util.SystemMessage.Of(ex)} Fix its permissions or remove it.", ex);
        }

        foreach (var child in children)
        {
            var rel = prefix.Length == 0 ? child.Name : prefix + "/" + child.Name;
            if (child.LinkTarget is null && !child.Exists)
            {
                // Listed but not found by its name: a name that is not valid UTF-8 does not survive the round trip
                // through a .NET string (or the entry vanished while kodata/ was read).
                throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata entry {child.FullName} cannot be examined: its name is not valid UTF-8, or it was removed while kodata/ was read. Rename it to a UTF-8 name or remove it.");
            }

            FileSystemInfo target = child;
            if (child.LinkTarget is not null)
            {
                var resolved = ResolveLink(child);
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

            RefuseSpecialFile(child, target);
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

    /// <summary>The final target of a link; a link that loops (to itself, or a→b→a) is a KO2005 naming it.</summary>
    private static FileSystemInfo? ResolveLink(FileSystemInfo link)
    {
        try
        {
            return link.ResolveLinkTarget(returnFinalTarget: true);
        }
        catch (IOException ex)
        {
            throw new KoException(KoErrorCodes.KodataUnreadable, $"{link.FullName} is a symbolic link to '{link.LinkTarget}' that never ends in a file or directory (a loop: it leads back to itself): {Util.SystemMessage.Of(ex)} Point the link at a real file or remove it.", ex);
        }
    }

    /// <summary>
    /// Refuses FIFOs, devices and sockets, asking the file system without opening them: opening a FIFO for reading
    /// blocks until someone writes, and reading a device such as /dev/zero never ends.
    /// </summary>
    private static void RefuseSpecialFile(FileSystemInfo entry, FileSystemInfo target)
    {
        var kind = Util.UnixFileStatus.KindOf(target.FullName, followLinks: false);
        if (kind is Util.FileKind.Regular or Util.FileKind.Directory or Util.FileKind.Unknown)
        {
            return;
        }

        var via = ReferenceEquals(entry, target) ? string.Empty : $" (the symbolic link points to {target.FullName})";
        throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata entry {entry.FullName} is {Util.UnixFileStatus.Describe(kind)}{via}: kodata/ may hold only regular files, directories and links to them, because reading {Util.UnixFileStatus.Describe(kind)} can block or never end. Remove it from kodata/ or replace it with a regular file.");
    }

    private static FileStream OpenKodataFile(string path)
    {
        try
        {
            return OpenRead(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata file {path} cannot be read: {Util.SystemMessage.Of(ex)} Fix its permissions or remove it from kodata/.", ex);
        }
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
}
