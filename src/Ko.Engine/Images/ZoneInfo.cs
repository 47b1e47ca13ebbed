using System.IO.Compression;
using Ko.Engine.Layers;
using Ko.Engine.Oci;

namespace Ko.Engine.Images;

/// <summary>
/// Time-zone data for <c>embedded:static</c> at <c>/usr/share/zoneinfo</c> (where Go's time.LoadLocation looks), as
/// ko's default base carries it: the build machine's tzdata when it has one, else the <c>lib/time/zoneinfo.zip</c>
/// of a Go installation. Entries are read in ordinal order with fixed modes, so the bytes depend only on the data.
/// </summary>
internal sealed class ZoneInfo
{
    /// <summary>Where the data goes in the image.</summary>
    public const string ImageDirectory = "usr/share/zoneinfo";

    private const long MaxBytes = 64L << 20;
    private static readonly string[] ZipCandidates = ["/usr/lib/go/lib/time/zoneinfo.zip", "/usr/local/go/lib/time/zoneinfo.zip"];

    private ZoneInfo(string source, IReadOnlyList<(string Path, byte[]? Content, string? Link)> entries)
    {
        Source = source;
        Entries = entries;
    }

    /// <summary>Where the data came from (a directory or a zip file), for the history entry and logs.</summary>
    public string Source { get; }

    /// <summary>Relative paths (with '/'), in tar order: a directory (both null), a file, or a link inside the data.</summary>
    public IReadOnlyList<(string Path, byte[]? Content, string? Link)> Entries { get; }

    /// <summary>The machine's tzdata directory, else Go's zoneinfo.zip (GOROOT first), else null.</summary>
    public static ZoneInfo? Find(string directory = "/usr/share/zoneinfo", string? goroot = null) => Read(Locate(directory, goroot));

    /// <summary>Where the data is (the tzdata directory or a zoneinfo.zip), without reading it; null when nowhere.</summary>
    public static string? Locate(string directory = "/usr/share/zoneinfo", string? goroot = null) =>
        File.Exists(Path.Combine(directory, "UTC"))
            ? directory
            : (goroot is null ? ZipCandidates : ZipCandidates.Prepend(Path.Combine(goroot, "lib", "time", "zoneinfo.zip"))).FirstOrDefault(File.Exists);

    /// <summary>Reads the data <see cref="Locate"/> found (null stays null).</summary>
    public static ZoneInfo? Read(string? source)
    {
        if (source is null || source.EndsWith(".zip", StringComparison.Ordinal))
        {
            return source is null ? null : FromZip(source);
        }

        var entries = new List<(string, byte[]?, string?)>();
        long total = 0;
        var root = Path.GetFullPath(source);
        Walk(root, root, string.Empty, entries, ref total);
        return new ZoneInfo(source, entries);
    }

    /// <summary>
    /// A stamp of the data from <c>stat</c> alone (every entry's path and fingerprint, as the kodata layer's stat key),
    /// so an unchanged tzdata is not read on every build; null when an entry changed too recently to be trusted or
    /// cannot be stat'ed (then the content decides).
    /// </summary>
    public static string? StatStamp(string? source, List<(string Path, Util.FileFingerprint Stat)>? examined = null)
    {
        if (source is null)
        {
            return "no-tzdata";
        }

        var key = new Util.StatKeyHasher("zoneinfo-stat-v2");
        key.Add(source);
        var entries = 0;
        var now = DateTimeOffset.UtcNow;
        if (!StampLinkTarget(source, now, key, examined))
        {
            return null;
        }

        var stack = new Stack<string>([source]);
        while (stack.Count > 0)
        {
            var path = stack.Pop();
            if (Util.UnixFileStatus.FingerprintOf(path, followLinks: false) is not { } f || f.IsRacy(now) || ++entries > 50_000)
            {
                return null;
            }

            key.Add(path);
            key.Add(f);
            examined?.Add((path, f));
            const int TypeMask = 0xF000, DirectoryType = 0x4000; // st_mode's S_IFMT and S_IFDIR
            if (path == source ? Directory.Exists(path) : (f.Mode & TypeMask) == DirectoryType)
            {
                foreach (var child in Directory.EnumerateFileSystemEntries(path).Order(StringComparer.Ordinal).Reverse())
                {
                    stack.Push(child);
                }
            }
        }

        return key.Finish();
    }

    /// <summary>
    /// A root that is a link (tzdata kept elsewhere, Go's zip linked into GOROOT) is read through the link, so its final
    /// target's fingerprint is part of the stamp too: a file added to that directory, or a new zip, changes it. False
    /// when the target cannot be told or changed a moment ago.
    /// </summary>
    private static bool StampLinkTarget(string source, DateTimeOffset now, Util.StatKeyHasher key, List<(string Path, Util.FileFingerprint Stat)>? examined)
    {
        var link = new FileInfo(source);
        if (link.LinkTarget is null)
        {
            return true;
        }

        FileSystemInfo? target;
        try
        {
            target = link.ResolveLinkTarget(returnFinalTarget: true);
        }
        catch (IOException)
        {
            return false; // a loop
        }

        if (target is null || Util.UnixFileStatus.FingerprintOf(target.FullName, followLinks: false) is not { } f || f.IsRacy(now))
        {
            return false;
        }

        key.Add(target.FullName);
        key.Add(f);
        examined?.Add((target.FullName, f));
        return true;
    }

    /// <summary>Says at debug level (<c>-v</c>) where embedded:static's time zones come from; a warning when there are none.</summary>
    public static void LogSource(ZoneInfo? zones, Microsoft.Extensions.Logging.ILogger? logger) => LogSource(zones?.Source, logger);

    /// <summary>Says at debug level (<c>-v</c>) where embedded:static's time zones come from; a warning when there are none.</summary>
    public static void LogSource(string? source, Microsoft.Extensions.Logging.ILogger? logger)
    {
        if (logger is null)
        {
            return;
        }

        if (source is null)
        {
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(logger, "embedded:static has no time-zone data: the build machine has no /usr/share/zoneinfo and no Go lib/time/zoneinfo.zip was found, so time.LoadLocation fails in the image. Install tzdata (apt-get install tzdata).");
            return;
        }

        var origin = source.EndsWith(".zip", StringComparison.Ordinal) ? "Go's zoneinfo.zip" : "the build machine's tzdata";
        Microsoft.Extensions.Logging.LoggerExtensions.LogDebug(logger, "embedded:static time zones at /usr/share/zoneinfo come from {Origin}: {Source}", origin, source);
    }

    /// <summary>A digest of everything, for the layer cache key.</summary>
    public string Fingerprint()
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var (path, content, link) in Entries)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{path}\0{link}\0{content?.Length}\0"));
            hash.AppendData(content ?? []);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Writes <c>usr</c>, <c>usr/share</c>, <c>usr/share/zoneinfo</c> and the data.</summary>
    public async Task WriteAsync(DeterministicTarWriter tar, CancellationToken ct)
    {
        const int Dir = 0x1ed; // 0755
        const int File = 0x1a4; // 0644
        foreach (var d in new[] { "usr", "usr/share", ImageDirectory })
        {
            await tar.WriteEntryAsync(new TarEntry(d, TarEntryType.Directory, Dir, 0, 0), ct).ConfigureAwait(false);
        }

        foreach (var (path, content, link) in Entries)
        {
            var name = ImageDirectory + "/" + path;
            if (link is not null)
            {
                await tar.WriteEntryAsync(new TarEntry(name, TarEntryType.Symlink, 0x1ff, 0, 0) { LinkName = link }, ct).ConfigureAwait(false);
            }
            else if (content is null)
            {
                await tar.WriteEntryAsync(new TarEntry(name, TarEntryType.Directory, Dir, 0, 0), ct).ConfigureAwait(false);
            }
            else
            {
                await tar.WriteEntryAsync(new TarEntry(name, TarEntryType.File, File, 0, 0), content, ct).ConfigureAwait(false);
            }
        }
    }

    // Regular files and directories; links are kept only when relative and inside the data (localtime, which points
    // at /etc, is not time-zone data).
    private static void Walk(string root, string dir, string prefix, List<(string, byte[]?, string?)> entries, ref long total)
    {
        foreach (var child in new DirectoryInfo(dir).EnumerateFileSystemInfos().OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            var rel = prefix.Length == 0 ? child.Name : prefix + "/" + child.Name;
            if (child.LinkTarget is { } target)
            {
                var resolved = Path.GetFullPath(target, dir);
                if (!Path.IsPathRooted(target) && resolved.StartsWith(root + "/", StringComparison.Ordinal) && File.Exists(resolved))
                {
                    entries.Add((rel, null, target));
                }

                continue;
            }

            if (child is DirectoryInfo)
            {
                entries.Add((rel, null, null));
                Walk(root, child.FullName, rel, entries, ref total);
            }
            else if (Util.UnixFileStatus.KindOf(child.FullName, followLinks: false) is Util.FileKind.Regular or Util.FileKind.Unknown && child is FileInfo f)
            {
                total += f.Length;
                if (total > MaxBytes)
                {
                    throw new KoException(KoErrorCodes.BaseImageUnreadable, $"the time-zone data in {dir} is larger than {MaxBytes >> 20} MiB; embedded:static reads at most that. Check that directory.");
                }

                entries.Add((rel, File.ReadAllBytes(child.FullName), null));
            }
        }
    }

    private static ZoneInfo FromZip(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        long total = 0;
        foreach (var e in zip.Entries.Where(e => e.Length > 0 && !e.FullName.EndsWith('/')))
        {
            var name = e.FullName.Replace('\\', '/');
            total += e.Length;
            if (name.Split('/').Any(p => p is "" or "." or ".."))
            {
                throw new KoException(KoErrorCodes.BaseImageUnreadable, $"{path} holds an entry '{name}' that is not a plain relative name; it is not Go's time-zone zip.");
            }

            if (total > MaxBytes)
            {
                throw new KoException(KoErrorCodes.BaseImageUnreadable, $"{path} expands to more than {MaxBytes >> 20} MiB; it is not Go's time-zone zip.");
            }

            using var s = e.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            files[name] = ms.ToArray();
        }

        // Directories before their contents, each once, in the same ordinal order the files come in.
        var entries = new List<(string, byte[]?, string?)>();
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, content) in files)
        {
            var parts = name.Split('/');
            for (var i = 1; i < parts.Length; i++)
            {
                var d = string.Join('/', parts[..i]);
                if (dirs.Add(d))
                {
                    entries.Add((d, null, null));
                }
            }

            entries.Add((name, content, null));
        }

        return new ZoneInfo(path, entries);
    }
}
