using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Ko.Engine.Sources;

/// <summary>What a tar entry is, as far as reading an image from it matters.</summary>
internal enum TarIndexKind
{
    /// <summary>A regular file: its data can be read.</summary>
    File,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A hard or symbolic link: never followed.</summary>
    Link,

    /// <summary>A device, FIFO or anything else.</summary>
    Other,
}

/// <summary>One entry of an indexed tar: where its data starts in the file and how long it is.</summary>
internal sealed record TarIndexEntry(string Name, TarIndexKind Kind, long Offset, long Size);

/// <summary>
/// The entries of a tar file, found by reading its headers once (ustar, PAX <c>path</c>/<c>size</c>, GNU long names)
/// and seeking over the data: nothing is extracted or buffered, and each file's data is then read as a slice of the
/// archive. The archive is outside input: a bad checksum, an entry past the end of the file, a name that is absolute
/// or holds <c>..</c>, a second entry of the same name or more than <see cref="MaxEntries"/> entries is a
/// <see cref="FormatException"/> naming the archive and the entry.
/// </summary>
internal sealed class TarIndex
{
    /// <summary>The most entries indexed (an image archive holds a few per layer).</summary>
    internal const int MaxEntries = 100_000;

    private const int Block = 512;
    private const int MaxExtendedHeader = 1 << 20;

    private readonly Dictionary<string, TarIndexEntry> _entries;

    private TarIndex(string path, long length, Dictionary<string, TarIndexEntry> entries)
    {
        Path = path;
        Length = length;
        _entries = entries;
    }

    /// <summary>The archive's full path.</summary>
    public string Path { get; }

    /// <summary>The archive's length when it was indexed.</summary>
    public long Length { get; }

    /// <summary>The entries by normalised name (no leading <c>./</c>, no trailing <c>/</c>).</summary>
    public IReadOnlyDictionary<string, TarIndexEntry> Entries => _entries;

    /// <summary>Reads the headers of the tar at <paramref name="path"/>, which must be a regular file.</summary>
    public static async Task<TarIndex> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var kind = Util.UnixFileStatus.KindOf(path, followLinks: true);
        if (kind is not (Util.FileKind.Regular or Util.FileKind.Unknown))
        {
            throw new FormatException($"{path} is {Util.UnixFileStatus.Describe(kind)}, not a regular file.");
        }

        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        var length = RandomAccess.GetLength(handle);
        var entries = new Dictionary<string, TarIndexEntry>(StringComparer.Ordinal);
        var header = new byte[Block];
        var position = 0L;
        string? longName = null;
        Dictionary<string, string>? pax = null;
        while (position + Block <= length)
        {
            await ReadExactlyAsync(handle, header, position, path, cancellationToken).ConfigureAwait(false);
            if (header.All(b => b == 0))
            {
                break;
            }

            VerifyChecksum(header, path, position);
            var type = (char)header[156];
            var size = pax is not null && pax.TryGetValue("size", out var paxSize) ? ParsePaxSize(paxSize, path, position) : ParseSize(header.AsSpan(124, 12), path, position);
            var dataOffset = position + Block;
            if (size > length - dataOffset)
            {
                throw new FormatException($"{path}: the entry at byte {position} claims {size} bytes but the file ends {length - dataOffset} bytes later; the archive is truncated.");
            }

            position = dataOffset + ((size + Block - 1) / Block * Block);
            switch (type)
            {
                case 'x' or 'L':
                    var data = await ReadExtendedAsync(handle, dataOffset, size, path, cancellationToken).ConfigureAwait(false);
                    if (type == 'x')
                    {
                        pax = ParsePax(data, path, dataOffset);
                    }
                    else
                    {
                        longName = Encoding.UTF8.GetString(data).TrimEnd('\0');
                    }

                    continue;
                case 'g' or 'K':
                    continue; // Global PAX records and GNU long link names say nothing about the next entry's data.
            }

            var name = pax?.GetValueOrDefault("path") ?? longName ?? HeaderName(header);
            pax = null;
            longName = null;
            Add(entries, new TarIndexEntry(Normalise(name, path), KindOf(type), dataOffset, size), path);
        }

        if (pax is not null || longName is not null)
        {
            throw new FormatException($"{path}: the archive ends after an extended header, before the entry it describes; it is truncated.");
        }

        return new TarIndex(path, length, entries);
    }

    private static void Add(Dictionary<string, TarIndexEntry> entries, TarIndexEntry entry, string path)
    {
        if (entries.Count >= MaxEntries)
        {
            throw new FormatException($"{path} holds more than {MaxEntries} entries, more than any image archive has.");
        }

        if (entries.TryGetValue(entry.Name, out var earlier))
        {
            if (earlier.Kind == TarIndexKind.Directory && entry.Kind == TarIndexKind.Directory)
            {
                return;
            }

            throw new FormatException($"{path}: the entry '{entry.Name}' appears twice; which one is meant is ambiguous.");
        }

        entries.Add(entry.Name, entry);
    }

    private static TarIndexKind KindOf(char type) => type switch
    {
        '0' or '\0' or '7' => TarIndexKind.File,
        '5' => TarIndexKind.Directory,
        '1' or '2' => TarIndexKind.Link,
        _ => TarIndexKind.Other,
    };

    private static async Task ReadExactlyAsync(SafeFileHandle handle, Memory<byte> buffer, long offset, string path, CancellationToken cancellationToken)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var n = await RandomAccess.ReadAsync(handle, buffer[done..], offset + done, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new FormatException($"{path} ended at byte {offset + done} while it was being read; it is truncated or was changed.");
            }

            done += n;
        }
    }

    private static async Task<byte[]> ReadExtendedAsync(SafeFileHandle handle, long offset, long size, string path, CancellationToken cancellationToken)
    {
        if (size > MaxExtendedHeader)
        {
            throw new FormatException($"{path}: the extended header at byte {offset - Block} is {size} bytes, more than the {MaxExtendedHeader} allowed.");
        }

        var data = new byte[size];
        await ReadExactlyAsync(handle, data, offset, path, cancellationToken).ConfigureAwait(false);
        return data;
    }

    private static void VerifyChecksum(byte[] header, string path, long position)
    {
        var sum = 0L;
        for (var i = 0; i < Block; i++)
        {
            sum += i is >= 148 and < 156 ? (byte)' ' : header[i];
        }

        if (ParseOctal(header.AsSpan(148, 8)) != sum)
        {
            throw new FormatException($"{path}: the tar header at byte {position} has a wrong checksum; the file is not a tar archive or is corrupt.");
        }
    }

    private static long ParseSize(ReadOnlySpan<byte> field, string path, long position)
    {
        if ((field[0] & 0x80) != 0)
        {
            // GNU base-256: a big-endian number in the remaining bits; a negative one (0xff lead) is refused.
            if (field[0] == 0xff)
            {
                throw new FormatException($"{path}: the tar header at byte {position} has a negative size.");
            }

            var value = (long)(field[0] & 0x7f);
            foreach (var b in field[1..])
            {
                if (value > (long.MaxValue >> 8))
                {
                    throw new FormatException($"{path}: the tar header at byte {position} has a size too large to be real.");
                }

                value = (value << 8) | b;
            }

            return value;
        }

        var octal = ParseOctal(field);
        return octal >= 0 ? octal : throw new FormatException($"{path}: the tar header at byte {position} has no valid size.");
    }

    /// <summary>An octal field (leading spaces, then digits, ended by NUL or space); -1 when it holds anything else.</summary>
    private static long ParseOctal(ReadOnlySpan<byte> field)
    {
        var text = Encoding.ASCII.GetString(field).Trim(' ', '\0');
        if (text.Length == 0 || text.Length > 21 || !text.All(c => c is >= '0' and <= '7'))
        {
            return -1;
        }

        return Convert.ToInt64(text, 8);
    }

    private static long ParsePaxSize(string text, string path, long position) =>
        text.Length is > 0 and <= 19 && text.All(char.IsAsciiDigit) && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size)
            ? size
            : throw new FormatException($"{path}: the PAX size '{(text.Length > 40 ? text[..40] + "…" : text)}' before byte {position} is not a number of bytes.");

    /// <summary>PAX records: <c>LENGTH key=value\n</c>, each length counting the whole record.</summary>
    private static Dictionary<string, string> ParsePax(byte[] data, string path, long offset)
    {
        var records = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = 0;
        while (i < data.Length && data[i] != 0)
        {
            var space = Array.IndexOf(data, (byte)' ', i);
            var lengthText = space > i ? Encoding.ASCII.GetString(data, i, space - i) : string.Empty;
            if (lengthText.Length is 0 or > 7 || !lengthText.All(char.IsAsciiDigit) || int.Parse(lengthText, System.Globalization.CultureInfo.InvariantCulture) is var length && (length <= space - i + 1 || i + length > data.Length || data[i + length - 1] != '\n'))
            {
                throw new FormatException($"{path}: the PAX header at byte {offset} is malformed.");
            }

            var record = Encoding.UTF8.GetString(data, space + 1, i + length - space - 2);
            var equals = record.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException($"{path}: the PAX header at byte {offset} has a record without a key.");
            }

            records[record[..equals]] = record[(equals + 1)..];
            i += length;
        }

        return records;
    }

    private static string HeaderName(byte[] header)
    {
        var name = CString(header.AsSpan(0, 100));
        var ustar = header.AsSpan(257, 5).SequenceEqual("ustar"u8);
        var prefix = ustar ? CString(header.AsSpan(345, 155)) : string.Empty;
        return prefix.Length > 0 ? prefix + "/" + name : name;
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end >= 0 ? field[..end] : field);
    }

    /// <summary>Drops leading <c>./</c> and trailing <c>/</c>; refuses absolute names and <c>..</c> segments.</summary>
    internal static string Normalise(string name, string path)
    {
        var n = name;
        while (n.StartsWith("./", StringComparison.Ordinal))
        {
            n = n[2..];
        }

        n = n.TrimEnd('/');
        if (n.Length == 0 || n == ".")
        {
            return ".";
        }

        if (n.StartsWith('/') || n.Contains('\0', StringComparison.Ordinal) || n.Split('/').Any(s => s == ".."))
        {
            throw new FormatException($"{path}: the entry name '{name}' leaves the archive (absolute, or with '..'); such an archive is refused.");
        }

        return n;
    }
}
