using System.Security.Cryptography;
using System.IO.Enumeration;
using Ko.Engine.Oci;

namespace Ko.Engine.Layers;

/// <summary>The two layers ko adds to a base: <c>kodata/</c> at <c>/var/run/ko</c>, and the binary at <c>/ko-app/&lt;name&gt;</c>.</summary>
internal static class AppLayers
{
    public const string AppDirectory = "/ko-app";
    public const string KodataRoot = "/var/run/ko";
    private const int Mode0555 = 0x16d;

    /// <summary>The directory entries ko writes before kodata's contents, in order.</summary>
    private static readonly string[] KodataParents = ["/var", "/var/run", KodataRoot];

    /// <summary>Outcome of asking for a layer: the layer, and whether the cache supplied it.</summary>
    public readonly record struct LayerOutcome(FileLayer Layer, bool FromCache);

    public const string CapabilityPaxKey = "SCHILY.xattr.security.capability";

    /// <summary>
    /// The binary layer as ko's tarBinary writes it (pkg/build/gobuild.go): a <c>ko-app</c> directory entry, then the
    /// file under its absolute name <c>/ko-app/NAME</c>, both mode 0555 with no modification time (0), whatever
    /// <c>SOURCE_DATE_EPOCH</c> says (so <c>mtime</c> is ignored; pass 0); capabilities as a <c>security.capability</c>
    /// PAX record.
    /// </summary>
    public static async Task<LayerOutcome> BinaryLayerAsync(ContentStore store, LayerCache cache, string binaryPath, string appName, long mtime, CancellationToken cancellationToken, IReadOnlyList<string>? capabilities = null)
    {
        _ = mtime;
        mtime = 0;
        var xattr = capabilities is { Count: > 0 } ? FileCapabilities.Parse(capabilities, "linux_capabilities").XattrBytes() : null;
        IReadOnlyDictionary<string, byte[]>? pax = xattr is null ? null : new Dictionary<string, byte[]>(StringComparer.Ordinal) { [CapabilityPaxKey] = xattr };
        string binaryHash;
        long size;
        await using (var stream = OpenRead(binaryPath))
        {
            size = stream.Length;
            binaryHash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }

        string[] keyParts = ["ko-binary-v3", AppDirectory, appName, binaryHash, size.ToString(System.Globalization.CultureInfo.InvariantCulture), mtime.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var key = xattr is null ? CacheKey.Of(keyParts) : CacheKey.Of([.. keyParts, "caps", Convert.ToHexStringLower(xattr)]);
        var cached = await cache.TryGetAsync(key, cancellationToken).ConfigureAwait(false);
        if (cached is not null)
        {
            return new LayerOutcome(cached, true);
        }

        var layer = await LayerWriter.WriteAsync(
            store,
            async (tar, ct) =>
            {
                await tar.WriteEntryAsync(new TarEntry(AppDirectory.TrimStart('/'), TarEntryType.Directory, Mode0555, 0, mtime) { ExactName = true }, ct).ConfigureAwait(false);
                // The archived bytes must be the ones hashed for the cache key (a concurrent `go build` may rewrite
                // the file), or the cache would hold a layer under a key that does not describe it.
                var changed = new KoException(KoErrorCodes.BuildFailed, $"the Go binary {binaryPath} changed while the image was being built (another build writing it at the same time?). Run the build again.");
                await using var content = OpenRead(binaryPath);
                var hashing = new HashingReadStream(content);
                await using (hashing.ConfigureAwait(false))
                {
                    try
                    {
                        await tar.WriteEntryAsync(new TarEntry($"{AppDirectory}/{appName}", TarEntryType.File, Mode0555, size, mtime) { PaxRecords = pax, ExactName = true }, hashing, ct).ConfigureAwait(false);
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

    /// <summary>
    /// The binary layer recorded under a Go build ID (with the binary's size and the same layer settings as
    /// <see cref="BinaryLayerAsync"/>), or null. Only for a binary the caller knows to be unchanged since that layer
    /// was made from its hashed bytes (<see cref="Go.GoBinaryStamp"/>): the build ID alone does not prove the bytes.
    /// </summary>
    public static async Task<LayerOutcome?> BinaryLayerByBuildIdAsync(LayerCache cache, string buildId, long size, string appName, IReadOnlyList<string>? capabilities, CancellationToken cancellationToken) =>
        await cache.TryGetAsync(BuildIdKey(buildId, size, appName, capabilities), cancellationToken).ConfigureAwait(false) is { } layer ? new LayerOutcome(layer, true) : null;

    /// <summary>Records <paramref name="layer"/> (made by <see cref="BinaryLayerAsync"/>) under the binary's Go build ID.</summary>
    public static Task RememberBinaryLayerAsync(LayerCache cache, string buildId, long size, string appName, IReadOnlyList<string>? capabilities, FileLayer layer, CancellationToken cancellationToken) =>
        cache.PutAsync(BuildIdKey(buildId, size, appName, capabilities), layer, cancellationToken);

    private static string BuildIdKey(string buildId, long size, string appName, IReadOnlyList<string>? capabilities)
    {
        var xattr = capabilities is { Count: > 0 } ? FileCapabilities.Parse(capabilities, "linux_capabilities").XattrBytes() : null;
        string[] parts = ["ko-binary-buildid-v1", AppDirectory, appName, buildId, size.ToString(System.Globalization.CultureInfo.InvariantCulture), "0"];
        return CacheKey.Of(xattr is null ? parts : [.. parts, "caps", Convert.ToHexStringLower(xattr)]);
    }

    /// <summary>
    /// The kodata layer as ko's tarKoData writes it (pkg/build/gobuild.go): directory entries <c>/var</c>,
    /// <c>/var/run</c> and <c>/var/run/ko</c>, then kodata/ in filepath.Walk order under <c>/var/run/ko/</c>; every entry
    /// mode 0555 and dated <paramref name="mtime"/> (<c>KO_DATA_DATE_EPOCH</c>, else 0). Names are written as ko writes
    /// them, with the leading '/' and no trailing '/' on directories, so the layer's bytes are ko's.
    /// </summary>
    public static async Task<LayerOutcome> KodataLayerAsync(ContentStore store, LayerCache cache, string packageDirectory, long mtime, CancellationToken cancellationToken, string? allowedRoot = null)
    {
        var root = Path.Combine(packageDirectory, "kodata");
        var entries = KodataEntries(root, allowedRoot);
        var statKey = KodataStatKey(entries, mtime);
        if (statKey is not null && await cache.TryGetAsync(statKey, cancellationToken).ConfigureAwait(false) is { } unchanged)
        {
            return new LayerOutcome(unchanged, true);
        }

        var keyParts = new List<string> { "ko-kodata-v3", KodataRoot, mtime.ToString(System.Globalization.CultureInfo.InvariantCulture) };
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
                foreach (var dir in KodataParents)
                {
                    await tar.WriteEntryAsync(new TarEntry(dir, TarEntryType.Directory, Mode0555, 0, mtime) { ExactName = true }, ct).ConfigureAwait(false);
                }

                foreach (var e in entries)
                {
                    var name = KodataRoot + "/" + e.RelativePath;
                    if (e.SourcePath is null)
                    {
                        await tar.WriteEntryAsync(new TarEntry(name, TarEntryType.Directory, Mode0555, 0, mtime) { ExactName = true }, ct).ConfigureAwait(false);
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
        // Taken after the walk's statx and before any content is read: a file changed within the window of this
        // moment could change again unseen after it is read, so it gets no stat key.
        var now = DateTimeOffset.UtcNow;
        var key = new Util.StatKeyHasher("ko-kodata-stat-v3");
        key.Add(KodataRoot);
        key.Add(mtime);
        foreach (var e in entries)
        {
            key.Add(e.RelativePath);
            if (e.SourcePath is null)
            {
                key.Add("dir");
                continue;
            }

            // SourcePath is the final target of a link (or the file itself), stat'ed without following links.
            if ((e.Stat ?? Util.UnixFileStatus.FingerprintOf(e.SourcePath, followLinks: false)) is not { } stat || stat.IsRacy(now))
            {
                return null;
            }

            key.Add(e.SourcePath);
            key.Add(stat);
        }

        return key.Finish();
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
                await tar.WriteEntryAsync(new TarEntry(name, TarEntryType.File, Mode0555, content.Length, mtime) { ExactName = true }, hashing, ct).ConfigureAwait(false);
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
    internal readonly record struct KodataEntry(string RelativePath, string? SourcePath, Util.FileFingerprint? Stat = null);

    /// <summary>
    /// Where kodata symbolic links may point, as ko's resolveKodataAllowedRoot (pkg/build/gobuild.go): the candidate is
    /// <c>KO_DATA_PATH_ALLOWED_ROOT</c> when set, else the git work tree that holds the package (the nearest directory
    /// with <c>.git</c>); it is used only when it contains kodata/ (so it can only widen the boundary, never move it
    /// elsewhere), and otherwise the boundary is the kodata directory itself.
    /// </summary>
    public static string KodataAllowedRoot(string packageDirectory, IReadOnlyDictionary<string, string?> environment)
    {
        var kodata = RealPath(Path.Combine(Path.GetFullPath(packageDirectory), "kodata"));
        string? candidate = null;
        if (environment.TryGetValue("KO_DATA_PATH_ALLOWED_ROOT", out var explicitRoot) && !string.IsNullOrEmpty(explicitRoot))
        {
            candidate = RealPath(Path.GetFullPath(explicitRoot));
        }
        else
        {
            for (var dir = new DirectoryInfo(kodata); dir is not null; dir = dir.Parent)
            {
                if (Directory.Exists(Path.Combine(dir.FullName, ".git")) || File.Exists(Path.Combine(dir.FullName, ".git")))
                {
                    candidate = RealPath(dir.FullName);
                    break;
                }
            }
        }

        return candidate is not null && IsInside(kodata, candidate) ? candidate : kodata;
    }

    /// <summary>
    /// Lists kodata/ in Go's filepath.Walk order (each directory's names in byte order, a directory before its
    /// contents: the tar order ko writes), following symbolic links to files and directories whose
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

    // Go compares names as UTF-8 bytes, which is code point order; UTF-16 ordinal order differs only where a surrogate
    // (a character beyond the BMP) meets U+E000..U+FFFF. Moving the surrogates above that range compares as UTF-8
    // does, without encoding both names for each of the sort's comparisons.
    internal static int CompareUtf8(string a, string b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            if (a[i] != b[i])
            {
                return CodePointOrder(a[i]) - CodePointOrder(b[i]);
            }
        }

        return a.Length - b.Length;

        static int CodePointOrder(char c) => c >= 0xD800 ? (c <= 0xDFFF ? c + 0x2000 : c - 0x800) : c;
    }

    private static void Walk(string dir, string prefix, HashSet<string> ancestors, List<KodataEntry> result, string allowedRoot)
    {
        foreach (var name in SortedNames(dir))
        {
            var path = Path.Join(dir, name);
            var rel = prefix.Length == 0 ? name : prefix + "/" + name;
            // One statx per entry: its kind (special files are refused) and the stat key's fingerprint. Only a link
            // costs more: it is resolved and its final target examined.
            var stat = Util.UnixFileStatus.FingerprintOf(path, followLinks: false);
            var kind = stat is { } st ? Util.UnixFileStatus.KindOfMode(st.Mode) : KindWithoutStatx(path);
            var target = path;
            if (kind == Util.FileKind.SymbolicLink)
            {
                target = FollowLink(path, allowedRoot);
                stat = Util.UnixFileStatus.FingerprintOf(target, followLinks: false);
                kind = stat is { } ts ? Util.UnixFileStatus.KindOfMode(ts.Mode) : (Directory.Exists(target) ? Util.FileKind.Directory : Util.FileKind.Unknown);
            }

            RefuseSpecialFile(path, target, kind);
            if (kind == Util.FileKind.Directory)
            {
                var real = Path.GetFullPath(target);
                if (!ancestors.Add(real))
                {
                    throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata entry {path} links back to {real}, a directory that contains it; remove the loop.");
                }

                result.Add(new KodataEntry(rel, null));
                Walk(target, rel, ancestors, result, allowedRoot);
                ancestors.Remove(real);
            }
            else
            {
                result.Add(new KodataEntry(rel, target, stat));
            }
        }
    }

    /// <summary>
    /// The names in <paramref name="dir"/>, sorted as Go sorts them. Only names are taken from the listing, so .NET
    /// examines nothing (its file infos cost an lstat and a geteuid per entry, on top of the walk's own statx).
    /// </summary>
    private static List<string> SortedNames(string dir)
    {
        try
        {
            var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false };
            var names = new FileSystemEnumerable<string>(dir, (ref FileSystemEntry entry) => entry.FileName.ToString(), options).ToList();
            names.Sort(CompareUtf8);
            return names;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata directory {dir} cannot be read: {Util.SystemMessage.Of(ex)} Fix its permissions or remove it.", ex);
        }
    }

    /// <summary>
    /// The kind of a listed entry where statx could not tell it. On Linux that means the name does not lead back to
    /// the entry; elsewhere .NET's attributes tell links and directories apart (special files are not detected there).
    /// </summary>
    private static Util.FileKind KindWithoutStatx(string path)
    {
        var info = new FileInfo(path);
        if (Util.UnixFileStatus.IsAvailable || (info.LinkTarget is null && !info.Exists && !Directory.Exists(path)))
        {
            // A name that is not valid UTF-8 does not survive the round trip through a .NET string; or the entry
            // vanished while kodata/ was read.
            throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata entry {path} cannot be examined: its name is not valid UTF-8, it was removed while kodata/ was read, or its directory cannot be searched. Rename it to a UTF-8 name, fix the directory's permissions or remove the entry.");
        }

        return info.LinkTarget is not null ? Util.FileKind.SymbolicLink
            : (info.Attributes & FileAttributes.Directory) != 0 ? Util.FileKind.Directory
            : Util.FileKind.Unknown;
    }

    /// <summary>The final target of a kodata link, which must exist and lie inside <paramref name="allowedRoot"/>.</summary>
    private static string FollowLink(string path, string allowedRoot)
    {
        FileSystemInfo link = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        var resolved = ResolveLink(link);
        if (resolved is null || !resolved.Exists)
        {
            throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata entry {path} is a symbolic link to '{link.LinkTarget}', which does not exist. Fix or remove the link.");
        }

        var real = RealPath(resolved.FullName);
        if (!IsInside(real, allowedRoot))
        {
            throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata entry {path} is a symbolic link to {real}, outside {allowedRoot}: ko follows links only inside the git work tree or KO_DATA_PATH_ALLOWED_ROOT. Copy the file into kodata/, or set KO_DATA_PATH_ALLOWED_ROOT to a directory that holds the target.");
        }

        return resolved.FullName;
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
    private static void RefuseSpecialFile(string entry, string target, Util.FileKind kind)
    {
        if (kind is Util.FileKind.Regular or Util.FileKind.Directory or Util.FileKind.Unknown)
        {
            return;
        }

        var via = entry == target ? string.Empty : $" (the symbolic link points to {target})";
        throw new KoException(KoErrorCodes.KodataUnreadable, $"kodata entry {entry} is {Util.UnixFileStatus.Describe(kind)}{via}: kodata/ may hold only regular files, directories and links to them, because reading {Util.UnixFileStatus.Describe(kind)} can block or never end. Remove it from kodata/ or replace it with a regular file.");
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
