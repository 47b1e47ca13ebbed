using System.Buffers.Binary;
using System.Text;

namespace Ko.Engine.Go;

/// <summary>A Go module as the build info of a binary records it.</summary>
/// <param name="Path">The module path.</param>
/// <param name="Version">The version (<c>(devel)</c> for the main module built from a working tree).</param>
/// <param name="Sum">The <c>h1:</c> go.sum hash, when Go recorded one.</param>
/// <param name="Replacement">What a <c>replace</c> directive put in its place, if anything.</param>
internal sealed record GoModule(string Path, string Version, string? Sum, GoModule? Replacement = null)
{
    /// <summary>The SHA-256 (lower-case hex) that an <c>h1:</c> hash carries (h1 is base64 of a SHA-256); null without one.</summary>
    public string? Sha256Hex => H1ToHex(Replacement?.Sum ?? Sum);

    /// <summary>The hex of an <c>h1:</c> hash, or null when there is none or it is malformed.</summary>
    public static string? H1ToHex(string? sum)
    {
        if (sum is null || !sum.StartsWith("h1:", StringComparison.Ordinal))
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[48];
        return Convert.TryFromBase64String(sum[3..], bytes, out var written) && written == 32
            ? Convert.ToHexStringLower(bytes[..32])
            : null;
    }
}

/// <summary>The build info Go embeds in a binary (what <c>go version -m</c> prints): Go version, main module, dependencies, settings.</summary>
/// <param name="GoVersion">The Go version, e.g. <c>go1.19.8</c>.</param>
/// <param name="PackagePath">The main package's import path.</param>
/// <param name="Main">The main module.</param>
/// <param name="Dependencies">Every dependency module, in Go's (sorted) order.</param>
/// <param name="Settings">The build settings (<c>-compiler=gc</c>, <c>GOOS=linux</c>, …) in Go's order.</param>
internal sealed record GoBuildInfo(string GoVersion, string PackagePath, GoModule? Main, IReadOnlyList<GoModule> Dependencies, IReadOnlyList<KeyValuePair<string, string>> Settings)
{
    /// <summary>
    /// Parses the module info text (<c>path</c>, <c>mod</c>, <c>dep</c>, <c>=&gt;</c>, <c>build</c> lines, tab separated), as
    /// embedded in the binary or as printed by <c>go version -m</c> (whose lines start with a tab after a
    /// <c>FILE: goVERSION</c> line).
    /// </summary>
    public static GoBuildInfo Parse(string goVersion, string modInfo)
    {
        var path = string.Empty;
        GoModule? main = null;
        var deps = new List<GoModule>();
        var settings = new List<KeyValuePair<string, string>>();
        GoModule? last = null;
        var lastIsMain = false;
        foreach (var rawLine in modInfo.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.StartsWith('\t'))
            {
                line = line[1..];
            }

            var fields = line.Split('\t');
            string Field(int i) => i < fields.Length ? fields[i] : string.Empty;
            string? Sum(int i) => i < fields.Length && fields[i].Length > 0 ? fields[i] : null;
            switch (fields[0])
            {
                case "go" when fields.Length >= 2 && goVersion.Length == 0:
                    goVersion = fields[1];
                    break;
                case "path":
                    path = Field(1);
                    break;
                case "mod":
                    main = new GoModule(Field(1), Field(2), Sum(3));
                    last = main;
                    lastIsMain = true;
                    break;
                case "dep":
                    last = new GoModule(Field(1), Field(2), Sum(3));
                    deps.Add(last);
                    lastIsMain = false;
                    break;
                case "=>" when last is not null:
                    var replaced = last with { Replacement = new GoModule(Field(1), Field(2), Sum(3)) };
                    if (lastIsMain)
                    {
                        main = replaced;
                    }
                    else
                    {
                        deps[^1] = replaced;
                    }

                    last = null;
                    break;
                case "build":
                    var setting = line["build\t".Length..];
                    var eq = setting.IndexOf('=', StringComparison.Ordinal);
                    settings.Add(eq < 0 ? new(setting, string.Empty) : new(setting[..eq], setting[(eq + 1)..]));
                    break;
            }
        }

        return new GoBuildInfo(goVersion, path, main, deps, settings);
    }

    /// <summary>Parses <c>go version -m FILE</c> output.</summary>
    public static GoBuildInfo ParseVersionOutput(string output)
    {
        var firstLineEnd = output.IndexOf('\n', StringComparison.Ordinal);
        var first = firstLineEnd < 0 ? output : output[..firstLineEnd];
        var colon = first.LastIndexOf(": ", StringComparison.Ordinal);
        var goVersion = colon < 0 ? string.Empty : first[(colon + 2)..].Trim();
        return Parse(goVersion, firstLineEnd < 0 ? string.Empty : output[(firstLineEnd + 1)..]);
    }
}

/// <summary>
/// Reads the build info straight out of a Go binary (Go 1.18+ inline format: the <c>.go.buildinfo</c> section of an ELF
/// file, or the 16-byte aligned <c>\xff Go buildinf:</c> blob anywhere in another format), without running Go. Older
/// or unusual binaries fall back to <c>go version -m</c>.
/// </summary>
internal static class BuildInfoReader
{
    private static readonly byte[] Magic = [0xff, .. " Go buildinf:"u8];
    private const int HeaderSize = 32;
    private const int MaxSection = 1 << 20;

    /// <summary>Reads the build info of <paramref name="binary"/>; <paramref name="goPath"/> is used only when the binary cannot be read directly.</summary>
    public static async Task<GoBuildInfo> ReadAsync(string binary, Func<string> goPath, IReadOnlyDictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        var direct = await TryReadDirectAsync(binary, cancellationToken).ConfigureAwait(false);
        if (direct is not null)
        {
            return direct;
        }

        var result = await Tools.ExternalProgram.RunAsync(GoTool.Start(goPath(), ["version", "-m", "--", binary], environment), cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new KoException(KoErrorCodes.BuildFailed, $"go version -m {binary} failed, so no SBOM can be made: {result.StandardError.Trim()}. Build with Go 1.18 or later, or pass --sbom=none.");
        }

        return GoBuildInfo.ParseVersionOutput(result.StandardOutput);
    }

    /// <summary>The build info read from the file itself, or null when it is not in the Go 1.18+ inline form.</summary>
    public static async Task<GoBuildInfo?> TryReadDirectAsync(string binary, CancellationToken cancellationToken)
    {
        var file = new FileStream(binary, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.RandomAccess);
        await using (file.ConfigureAwait(false))
        {
            var section = await ElfSectionAsync(file, ".go.buildinfo", cancellationToken).ConfigureAwait(false);
            if (section is { } s)
            {
                var bytes = new byte[Math.Min(s.Size, MaxSection)];
                await RandomAccess.ReadAsync(file.SafeFileHandle, bytes, s.Offset, cancellationToken).ConfigureAwait(false);
                return Decode(bytes);
            }

            return await ScanAsync(file, cancellationToken).ConfigureAwait(false);
        }
    }

    private static readonly byte[] BuildIdMagic = [0xff, .. " Go build ID: \""u8];

    /// <summary>
    /// The Go build ID of <paramref name="binary"/> (what go compares to decide whether to relink): the ELF
    /// <c>.note.go.buildid</c> note, else the quoted string go writes near the start of other formats; null when neither
    /// is found. A few small reads.
    /// </summary>
    public static async Task<string?> ReadBuildIdAsync(string binary, CancellationToken cancellationToken)
    {
        var file = new FileStream(binary, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.RandomAccess);
        await using (file.ConfigureAwait(false))
        {
            if (await ElfSectionAsync(file, ".note.go.buildid", cancellationToken).ConfigureAwait(false) is { } note)
            {
                var bytes = new byte[Math.Min(note.Size, 4096)];
                var read = await RandomAccess.ReadAsync(file.SafeFileHandle, bytes, note.Offset, cancellationToken).ConfigureAwait(false);
                return DecodeBuildIdNote(bytes.AsSpan(0, read));
            }

            var head = new byte[32 * 1024];
            var n = await RandomAccess.ReadAsync(file.SafeFileHandle, head, 0, cancellationToken).ConfigureAwait(false);
            var span = head.AsSpan(0, n);
            var at = span.IndexOf(BuildIdMagic);
            if (at < 0)
            {
                return null;
            }

            var rest = span[(at + BuildIdMagic.Length)..];
            var end = rest.IndexOf((byte)'"');
            return end > 0 ? Encoding.UTF8.GetString(rest[..end]) : null;
        }
    }

    /// <summary>The description of an ELF note named "Go" of type 4 (namesz, descsz, type, name padded to 4, desc), either byte order.</summary>
    internal static string? DecodeBuildIdNote(ReadOnlySpan<byte> note)
    {
        if (note.Length < 16 || !note[12..16].SequenceEqual("Go\0\0"u8))
        {
            return null;
        }

        var little = BinaryPrimitives.ReadUInt32LittleEndian(note) == 4;
        var descSize = little ? BinaryPrimitives.ReadUInt32LittleEndian(note[4..]) : BinaryPrimitives.ReadUInt32BigEndian(note[4..]);
        return descSize is > 0 and <= 1024 && 16 + descSize <= note.Length ? Encoding.UTF8.GetString(note.Slice(16, (int)descSize)) : null;
    }

    /// <summary>Decodes a buildinfo blob that starts with the magic; null when it is not the inline (Go 1.18+) form.</summary>
    internal static GoBuildInfo? Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderSize || !data[..Magic.Length].SequenceEqual(Magic))
        {
            return null;
        }

        var flags = data[15];
        if ((flags & 0x2) == 0)
        {
            return null; // pointer form (Go < 1.18): let go version -m read it
        }

        var rest = data[HeaderSize..];
        if (!TryReadString(ref rest, out var version) || !TryReadString(ref rest, out var modBytes))
        {
            return null;
        }

        // The module info is wrapped in 16 sentinel bytes on each side.
        if (modBytes.Length >= 33 && modBytes[^17] == (byte)'\n')
        {
            modBytes = modBytes[16..^16];
        }
        else
        {
            modBytes = [];
        }

        return GoBuildInfo.Parse(Encoding.UTF8.GetString(version), Encoding.UTF8.GetString(modBytes));
    }

    private static bool TryReadString(ref ReadOnlySpan<byte> data, out ReadOnlySpan<byte> value)
    {
        value = default;
        ulong length = 0;
        var shift = 0;
        var i = 0;
        while (true)
        {
            if (i >= data.Length || shift > 56)
            {
                return false;
            }

            var b = data[i++];
            length |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }

            shift += 7;
        }

        if (length > (ulong)(data.Length - i))
        {
            return false;
        }

        value = data.Slice(i, (int)length);
        data = data[(i + (int)length)..];
        return true;
    }

    private static async Task<(long Offset, long Size)?> ElfSectionAsync(FileStream file, string name, CancellationToken cancellationToken)
    {
        var header = new byte[64];
        if (await RandomAccess.ReadAsync(file.SafeFileHandle, header, 0, cancellationToken).ConfigureAwait(false) < 52
            || header[0] != 0x7f || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F')
        {
            return null;
        }

        var is64 = header[4] == 2;
        var little = header[5] == 1;
        ulong U(ReadOnlySpan<byte> b, int size) => size switch
        {
            2 => little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b),
            4 => little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b),
            _ => little ? BinaryPrimitives.ReadUInt64LittleEndian(b) : BinaryPrimitives.ReadUInt64BigEndian(b),
        };
        var word = is64 ? 8 : 4;
        var shoff = (long)U(header.AsSpan(is64 ? 0x28 : 0x20), word);
        var shentsize = (int)U(header.AsSpan(is64 ? 0x3a : 0x2e), 2);
        var shnum = (int)U(header.AsSpan(is64 ? 0x3c : 0x30), 2);
        var shstrndx = (int)U(header.AsSpan(is64 ? 0x3e : 0x32), 2);
        if (shoff <= 0 || shnum is <= 0 or > 4096 || shentsize < (is64 ? 64 : 40) || shstrndx >= shnum)
        {
            return null;
        }

        var table = new byte[shnum * shentsize];
        if (await RandomAccess.ReadAsync(file.SafeFileHandle, table, shoff, cancellationToken).ConfigureAwait(false) != table.Length)
        {
            return null;
        }

        (uint Name, long Offset, long Size) Section(int i)
        {
            var s = table.AsSpan(i * shentsize, shentsize);
            return is64
                ? ((uint)U(s, 4), (long)U(s[0x18..], 8), (long)U(s[0x20..], 8))
                : ((uint)U(s, 4), (long)U(s[0x10..], 4), (long)U(s[0x14..], 4));
        }

        var strings = Section(shstrndx);
        if (strings.Size is <= 0 or > MaxSection)
        {
            return null;
        }

        var names = new byte[strings.Size];
        await RandomAccess.ReadAsync(file.SafeFileHandle, names, strings.Offset, cancellationToken).ConfigureAwait(false);
        var wanted = Encoding.ASCII.GetBytes(name + "\0");
        for (var i = 0; i < shnum; i++)
        {
            var s = Section(i);
            if (s.Name + (uint)wanted.Length <= names.Length && names.AsSpan((int)s.Name, wanted.Length).SequenceEqual(wanted))
            {
                return s.Size > 0 ? (s.Offset, s.Size) : null;
            }
        }

        return null;
    }

    /// <summary>Finds the magic at a 16-byte aligned offset anywhere in the file (PE, Mach-O), reading in 1 MiB chunks.</summary>
    private static async Task<GoBuildInfo?> ScanAsync(FileStream file, CancellationToken cancellationToken)
    {
        const int Chunk = 1 << 20;
        var buffer = new byte[Chunk + 64 * 1024];
        var length = file.Length;
        for (long offset = 0; offset < length; offset += Chunk)
        {
            var read = await RandomAccess.ReadAsync(file.SafeFileHandle, buffer, offset, cancellationToken).ConfigureAwait(false);
            foreach (var at in Candidates(buffer, read, Math.Min(read, Chunk), offset))
            {
                var blob = new byte[64 * 1024];
                var n = await RandomAccess.ReadAsync(file.SafeFileHandle, blob, offset + at, cancellationToken).ConfigureAwait(false);
                if (Decode(blob.AsSpan(0, n)) is { } info)
                {
                    return info;
                }
            }
        }

        return null;
    }

    private static List<int> Candidates(byte[] buffer, int read, int searchLimit, long offset)
    {
        var found = new List<int>();
        var span = buffer.AsSpan(0, read);
        var start = 0;
        while (start < searchLimit)
        {
            var i = span[start..].IndexOf(Magic);
            if (i < 0 || start + i >= searchLimit)
            {
                break;
            }

            if ((offset + start + i) % 16 == 0)
            {
                found.Add(start + i);
            }

            start += i + 1;
        }

        return found;
    }
}
