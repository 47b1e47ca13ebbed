using System.Buffers;
using System.Text;

namespace Ko.Engine.Layers;

/// <summary>
/// Writes tar archives (USTAR, with PAX extended headers only when a name, link or record needs them) whose bytes
/// depend only on the entries given: no user names, no access or change times, no padding beyond the two end blocks.
/// </summary>
internal sealed class DeterministicTarWriter : IAsyncDisposable
{
    private const int Block = 512;
    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private bool _finished;

    public DeterministicTarWriter(Stream output, bool leaveOpen = false)
    {
        _output = output;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Writes an entry with no content (directory, symlink, or empty file).</summary>
    public ValueTask WriteEntryAsync(TarEntry entry, CancellationToken cancellationToken)
    {
        if (entry.Type == TarEntryType.File && entry.Size != 0)
        {
            throw new InvalidOperationException($"tar entry '{entry.Name}' has content; use the overload with a stream.");
        }

        return WriteHeaderAsync(entry, cancellationToken);
    }

    /// <summary>Writes a file entry and copies exactly <see cref="TarEntry.Size"/> bytes of content from <paramref name="content"/>.</summary>
    public async ValueTask WriteEntryAsync(TarEntry entry, Stream content, CancellationToken cancellationToken)
    {
        await WriteHeaderAsync(entry, cancellationToken).ConfigureAwait(false);
        var remaining = entry.Size;
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            while (remaining > 0)
            {
                var read = await content.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException($"'{entry.Name}' became shorter while it was being archived (expected {entry.Size} bytes).");
                }

                await _output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                remaining -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await PadAsync(entry.Size, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a file entry from bytes in memory (small generated files only).</summary>
    public async ValueTask WriteEntryAsync(TarEntry entry, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        await WriteHeaderAsync(entry with { Size = content.Length }, cancellationToken).ConfigureAwait(false);
        await _output.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        await PadAsync(content.Length, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the two zero blocks that end the archive.</summary>
    public async ValueTask FinishAsync(CancellationToken cancellationToken)
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        await _output.WriteAsync(new byte[Block * 2], cancellationToken).ConfigureAwait(false);
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_leaveOpen)
        {
            await _output.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask WriteHeaderAsync(TarEntry entry, CancellationToken cancellationToken)
    {
        var name = entry.Name;
        if (entry.Type == TarEntryType.Directory && !entry.ExactName && !name.EndsWith('/'))
        {
            name += "/";
        }

        var pax = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        if (entry.PaxRecords is not null)
        {
            foreach (var (k, v) in entry.PaxRecords)
            {
                pax[k] = v;
            }
        }

        var nameBytes = EncodeName(name, "file name");
        var linkBytes = entry.LinkName is null ? [] : EncodeName(entry.LinkName, "symlink target");
        if (linkBytes.Length > 100 || !IsAscii(linkBytes))
        {
            pax["linkpath"] = linkBytes;
            linkBytes = Truncate(ToAscii(linkBytes), 100);
        }

        // Values too large for their octal header field go into PAX records (as Go's archive/tar does) and the
        // field holds 0; nothing is ever truncated.
        const long MaxOctal12 = 0x1FFFFFFFFL; // 077777777777
        const long MaxOctal8 = 0x1FFFFF; // 07777777
        var size = entry.Type == TarEntryType.File ? entry.Size : 0;
        var mtime = Math.Max(0, entry.ModifiedTime);
        long uid = entry.Uid, gid = entry.Gid;
        size = Overflow(pax, "size", size, MaxOctal12);
        mtime = Overflow(pax, "mtime", mtime, MaxOctal12);
        uid = Overflow(pax, "uid", uid, MaxOctal8);
        gid = Overflow(pax, "gid", gid, MaxOctal8);

        // A name that does not fit the 100-byte field: as Go's archive/tar, a USTAR prefix/name split when the
        // entry needs no PAX header otherwise; else the whole name in a PAX "path" record (readers do not join
        // a prefix to a PAX entry's name) and its ASCII characters, truncated, in the header.
        byte[] ustarName = nameBytes;
        byte[] prefix = [];
        if (!IsAscii(nameBytes) || nameBytes.Length > 100)
        {
            if (pax.Count == 0 && IsAscii(nameBytes) && TrySplit(nameBytes, out var p, out var n))
            {
                prefix = p;
                ustarName = n;
            }
            else
            {
                pax["path"] = nameBytes;
                ustarName = Truncate(ToAscii(nameBytes), 100);
            }
        }

        if (pax.Count > 0)
        {
            var records = EncodePax(pax);
            var paxHeader = BuildHeader(PaxHeaderName(nameBytes), [], (byte)'x', 0, records.Length, 0, 0, 0, []);
            await _output.WriteAsync(paxHeader, cancellationToken).ConfigureAwait(false);
            await _output.WriteAsync(records, cancellationToken).ConfigureAwait(false);
            await PadAsync(records.Length, cancellationToken).ConfigureAwait(false);
        }

        var header = BuildHeader(ustarName, prefix, (byte)entry.Type, entry.Mode, size, mtime, uid, gid, linkBytes);
        await _output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // A name is written exactly or not at all: a NUL would end it early in every reader, and a lone surrogate
    // (a file name that is not valid UTF-8 on disk) would come out as a different name.
    private static byte[] EncodeName(string name, string what)
    {
        if (name.Length > 0 && !name.Contains('\0', StringComparison.Ordinal))
        {
            try
            {
                return StrictUtf8.GetBytes(name);
            }
            catch (EncoderFallbackException)
            {
                // Reported below.
            }
        }

        var shown = string.Concat(name.Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString()));
        throw new KoException(
            KoErrorCodes.KodataUnreadable,
            $"the {what} '{shown}' cannot go into an image layer: it is empty, holds a NUL character, or is not valid UTF-8. Rename the file (or the link's target) under kodata/.");
    }

    private static long Overflow(SortedDictionary<string, byte[]> pax, string key, long value, long max)
    {
        if (value <= max)
        {
            return value;
        }

        pax[key] = Encoding.ASCII.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    }

    private static byte[] BuildHeader(byte[] name, byte[] prefix, byte type, int mode, long size, long mtime, long uid, long gid, byte[] link)
    {
        var h = new byte[Block];
        name.CopyTo(h, 0);
        WriteOctal(h, 100, 8, mode);
        WriteOctal(h, 108, 8, uid);
        WriteOctal(h, 116, 8, gid);
        WriteOctal(h, 124, 12, size);
        WriteOctal(h, 136, 12, mtime);
        h[156] = type;
        link.CopyTo(h, 157);
        "ustar\0"u8.CopyTo(h.AsSpan(257));
        "00"u8.CopyTo(h.AsSpan(263));
        if (type != (byte)'x')
        {
            // Device numbers; Go leaves them empty in an extended header, as in any "raw" file it writes.
            WriteOctal(h, 329, 8, 0);
            WriteOctal(h, 337, 8, 0);
        }

        prefix.CopyTo(h, 345);

        // Checksum: the header's byte sum with the checksum field taken as spaces.
        for (var i = 148; i < 156; i++)
        {
            h[i] = (byte)' ';
        }

        var sum = 0;
        foreach (var b in h)
        {
            sum += b;
        }

        var chk = Convert.ToString(sum, 8).PadLeft(6, '0');
        Encoding.ASCII.GetBytes(chk).CopyTo(h, 148);
        h[154] = 0;
        h[155] = (byte)' ';
        return h;
    }

    private static void WriteOctal(byte[] h, int offset, int length, long value)
    {
        var text = Convert.ToString(value, 8).PadLeft(length - 1, '0');
        Encoding.ASCII.GetBytes(text).CopyTo(h, offset);
        h[offset + length - 1] = 0;
    }

    private static byte[] EncodePax(SortedDictionary<string, byte[]> records)
    {
        using var ms = new MemoryStream();
        foreach (var (key, value) in records)
        {
            var keyBytes = Encoding.UTF8.GetBytes(key);
            var body = keyBytes.Length + value.Length + 3; // ' ', '=', '\n'
            var len = body + 1;
            while (len != body + len.ToString(System.Globalization.CultureInfo.InvariantCulture).Length)
            {
                len = body + len.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
            }

            ms.Write(Encoding.ASCII.GetBytes(len.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            ms.WriteByte((byte)' ');
            ms.Write(keyBytes);
            ms.WriteByte((byte)'=');
            ms.Write(value);
            ms.WriteByte((byte)'\n');
        }

        return ms.ToArray();
    }

    private static bool TrySplit(byte[] name, out byte[] prefix, out byte[] rest)
    {
        prefix = [];
        rest = name;
        if (name.Length > 256)
        {
            return false;
        }

        for (var i = Math.Min(name.Length - 1, 155); i > 0; i--)
        {
            if (name[i] == (byte)'/' && name.Length - i - 1 <= 100 && name.Length - i - 1 > 0)
            {
                prefix = name[..i];
                rest = name[(i + 1)..];
                return true;
            }
        }

        return false;
    }

    // The extended header's own name and fields as Go's archive/tar writes them (so the bytes, and digests, are
    // ko's): DIR/PaxHeaders.0/FILE of the entry's name, in ASCII, at most 100 bytes, no trailing '/'; mode, owner and
    // time 0.
    private static byte[] PaxHeaderName(byte[] nameBytes)
    {
        var name = Encoding.UTF8.GetString(nameBytes);
        var slash = name.LastIndexOf('/');
        var dir = name[..(slash + 1)];
        var file = name[(slash + 1)..];
        var joined = (dir.Length == 0 ? string.Empty : dir.TrimEnd('/') + "/") + "PaxHeaders.0" + (file.Length == 0 ? string.Empty : "/" + file);
        return Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(Truncate(ToAscii(Encoding.UTF8.GetBytes(joined)), 100)).TrimEnd('/'));
    }

    // The name's ASCII characters (NUL excluded), as Go's archive/tar puts a PAX entry's name in its header.
    private static byte[] ToAscii(byte[] utf8) => utf8.Where(b => b is > 0 and < 0x80).ToArray();

    private static bool IsAscii(byte[] bytes) => bytes.All(b => b is > 0 and < 0x80);

    private static byte[] Truncate(byte[] bytes, int max) => bytes.Length <= max ? bytes : bytes[..max];

    private ValueTask PadAsync(long length, CancellationToken cancellationToken)
    {
        var rem = (int)(length % Block);
        return rem == 0 ? ValueTask.CompletedTask : _output.WriteAsync(new byte[Block - rem], cancellationToken);
    }
}
