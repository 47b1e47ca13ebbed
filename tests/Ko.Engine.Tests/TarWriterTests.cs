using System.Formats.Tar;
using System.Text;
using Ko.Engine.Layers;
using KoTarEntry = Ko.Engine.Layers.TarEntry;
using TarEntryType = Ko.Engine.Layers.TarEntryType;

namespace Ko.Engine.Tests;

public class TarWriterTests
{
    private const long Mtime = 1_700_000_000;
    private static readonly byte[] HelloBytes = Encoding.UTF8.GetBytes("hello, world\n");

    private static Task<byte[]> SampleArchiveAsync() => TestUtil.WriteTarAsync(async tar =>
    {
        var ct = CancellationToken.None;
        await tar.WriteEntryAsync(new KoTarEntry("ko-app", TarEntryType.Directory, 0x16d, 0, Mtime), ct);
        await tar.WriteEntryAsync(new KoTarEntry("ko-app/hello", TarEntryType.File, 0x16d, HelloBytes.Length, Mtime), new MemoryStream(HelloBytes), ct);
        await tar.WriteEntryAsync(new KoTarEntry("home/nonroot", TarEntryType.Directory, TestUtil.Octal("700"), 0, Mtime) { Uid = 65532, Gid = 65532 }, ct);
        await tar.WriteEntryAsync(new KoTarEntry("tmp/", TarEntryType.Directory, TestUtil.Octal("1777"), 0, Mtime), ct);
        await tar.WriteEntryAsync(new KoTarEntry("bin/app", TarEntryType.Symlink, TestUtil.Octal("777"), 0, Mtime) { LinkName = "/ko-app/hello" }, ct);
        await tar.WriteEntryAsync(new KoTarEntry("etc/motd", TarEntryType.File, TestUtil.Octal("644"), 0, 0), "motd\n"u8.ToArray(), ct);
    });

    [Fact]
    public async Task Entries_read_back_with_bcl_tar_reader()
    {
        var entries = TestUtil.ReadTar(await SampleArchiveAsync());

        Assert.Equal(["ko-app/", "ko-app/hello", "home/nonroot/", "tmp/", "bin/app", "etc/motd"], entries.Select(e => e.Entry.Name));
        Assert.Equal(
            new[] { TarEntryType.Directory, TarEntryType.File, TarEntryType.Directory, TarEntryType.Directory, TarEntryType.Symlink, TarEntryType.File }.Select(Bcl),
            entries.Select(e => e.Entry.EntryType));
        Assert.All(entries, e => Assert.Equal(TarEntryFormat.Ustar, e.Entry.Format));

        var dir = entries[0].Entry;
        Assert.Equal(0x16d, (int)dir.Mode);
        Assert.Equal(TestUtil.Octal("555"), (int)dir.Mode);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Mtime), dir.ModificationTime);
        Assert.Equal(0, dir.Uid);
        Assert.Equal(0, dir.Gid);

        var file = entries[1];
        Assert.Equal(HelloBytes, file.Data);
        Assert.Equal(HelloBytes.Length, file.Entry.Length);
        Assert.Equal(TestUtil.Octal("555"), (int)file.Entry.Mode);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Mtime), file.Entry.ModificationTime);

        var home = entries[2].Entry;
        Assert.Equal(65532, home.Uid);
        Assert.Equal(65532, home.Gid);
        Assert.Equal(TestUtil.Octal("700"), (int)home.Mode);

        var tmp = entries[3].Entry;
        Assert.Equal(TestUtil.Octal("1777"), (int)tmp.Mode);
        Assert.True(tmp.Mode.HasFlag(UnixFileMode.StickyBit));

        var link = entries[4].Entry;
        Assert.Equal("/ko-app/hello", link.LinkName);
        Assert.Empty(entries[4].Data);

        Assert.Equal("motd\n"u8.ToArray(), entries[5].Data);
        Assert.Equal(DateTimeOffset.UnixEpoch, entries[5].Entry.ModificationTime);

        foreach (var (entry, _) in entries)
        {
            var posix = Assert.IsAssignableFrom<PosixTarEntry>(entry);
            Assert.Equal(string.Empty, posix.UserName);
            Assert.Equal(string.Empty, posix.GroupName);
        }
    }

    [Fact]
    public async Task Every_header_checksum_is_valid_and_archive_ends_with_exactly_two_zero_blocks()
    {
        var tar = await SampleArchiveAsync();
        Assert.Equal(0, tar.Length % 512);

        var pos = 0;
        var headers = 0;
        while (pos + 512 <= tar.Length && tar.AsSpan(pos, 512).ContainsAnyExcept((byte)0))
        {
            var header = tar.AsSpan(pos, 512);
            Assert.Equal(ParseOctal(header.Slice(148, 8)), IndependentChecksum(header));
            Assert.Equal("ustar\0"u8.ToArray(), header.Slice(257, 6).ToArray());
            var size = ParseOctal(header.Slice(124, 12));
            pos += 512 + (int)((size + 511) / 512 * 512);
            headers++;
        }

        Assert.Equal(6, headers);
        // After the last entry: exactly two zero blocks, nothing more.
        Assert.Equal(pos + 1024, tar.Length);
        Assert.All(tar[pos..], b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task File_entry_is_header_plus_padded_content_with_no_extra_padding()
    {
        var tar = await TestUtil.WriteTarAsync(tar => tar.WriteEntryAsync(new KoTarEntry("a", TarEntryType.File, 0x1a4, 5, 0), new MemoryStream("12345"u8.ToArray()), default).AsTask());

        // 512 header + 512 (5 bytes padded) + 1024 end-of-archive.
        Assert.Equal(2048, tar.Length);
        Assert.Equal("12345"u8.ToArray(), tar[512..517]);
        Assert.All(tar[517..], b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Same_entries_give_identical_bytes()
    {
        var first = await SampleArchiveAsync();
        var second = await SampleArchiveAsync();
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Unsplittable_long_name_uses_pax_path_record()
    {
        // 150 characters without any '/': no ustar prefix/name split is possible.
        var name = "ko-app-" + new string('x', 143);
        Assert.Equal(150, name.Length);
        var tar = await TestUtil.WriteTarAsync(t => t.WriteEntryAsync(new KoTarEntry(name, TarEntryType.File, 0x16d, 3, Mtime), new MemoryStream("abc"u8.ToArray()), default).AsTask());

        Assert.Equal((byte)'x', tar[156]); // the first header is a PAX extended header
        var entries = TestUtil.ReadTar(tar);
        var (entry, data) = Assert.Single(entries);
        Assert.Equal(name, entry.Name);
        Assert.Equal("abc"u8.ToArray(), data);
        var pax = Assert.IsType<PaxTarEntry>(entry);
        Assert.Equal(name, pax.ExtendedAttributes["path"]);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Mtime), entry.ModificationTime);
    }

    [Fact]
    public async Task Splittable_long_name_uses_ustar_prefix_and_no_pax_header()
    {
        var dirPart = string.Join("/", Enumerable.Range(0, 6).Select(i => $"segment-{i}-" + new string('d', 10)));
        var name = dirPart + "/file.txt";
        Assert.InRange(name.Length, 101, 255);
        var tar = await TestUtil.WriteTarAsync(t => t.WriteEntryAsync(new KoTarEntry(name, TarEntryType.File, 0x1a4, 1, 0), new MemoryStream("z"u8.ToArray()), default).AsTask());

        Assert.Equal((byte)'0', tar[156]); // a plain ustar header, no PAX header in front
        var headerName = CString(tar.AsSpan(0, 100));
        var prefix = CString(tar.AsSpan(345, 155));
        Assert.NotEmpty(prefix);
        Assert.Equal(name, prefix + "/" + headerName);

        var (entry, data) = Assert.Single(TestUtil.ReadTar(tar));
        Assert.Equal(name, entry.Name);
        Assert.Equal(TarEntryFormat.Ustar, entry.Format);
        Assert.Equal("z"u8.ToArray(), data);
    }

    [Fact]
    public async Task Non_ascii_name_and_long_link_use_pax_records()
    {
        var name = "var/run/ko/données/é.txt";
        var link = "/" + string.Join("/", Enumerable.Repeat("very-long-link-target", 6));
        Assert.True(link.Length > 100);
        var tar = await TestUtil.WriteTarAsync(async t =>
        {
            await t.WriteEntryAsync(new KoTarEntry(name, TarEntryType.File, 0x16d, 2, 0), new MemoryStream("hi"u8.ToArray()), default);
            await t.WriteEntryAsync(new KoTarEntry("link", TarEntryType.Symlink, 0x1ff, 0, 0) { LinkName = link }, default);
        });

        var entries = TestUtil.ReadTar(tar);
        Assert.Equal(2, entries.Count);
        Assert.Equal(name, entries[0].Entry.Name);
        Assert.Equal("hi"u8.ToArray(), entries[0].Data);
        Assert.Equal("link", entries[1].Entry.Name);
        Assert.Equal(link, entries[1].Entry.LinkName);
    }

    [Fact]
    public async Task Pax_records_round_trip_as_extended_attributes()
    {
        const string Key = "SCHILY.xattr.security.capability";
        var value = "cap=v2 bind_service"; // '=' and ' ' inside the value must survive
        var tar = await TestUtil.WriteTarAsync(t => t.WriteEntryAsync(
            new KoTarEntry("ko-app/hello", TarEntryType.File, 0x16d, 4, Mtime) { PaxRecords = new Dictionary<string, byte[]> { [Key] = Encoding.UTF8.GetBytes(value) } },
            new MemoryStream("ELF!"u8.ToArray()),
            default).AsTask());

        var (entry, data) = Assert.Single(TestUtil.ReadTar(tar));
        var pax = Assert.IsType<PaxTarEntry>(entry);
        Assert.Equal(value, pax.ExtendedAttributes[Key]);
        Assert.Equal("ko-app/hello", entry.Name);
        Assert.Equal("ELF!"u8.ToArray(), data);
        Assert.Equal(TestUtil.Octal("555"), (int)entry.Mode);
    }

    [Fact]
    public async Task Pax_record_lengths_are_self_consistent_even_for_binary_values()
    {
        // The BCL reader splits records at '\n', so check the encoding by hand: each record is
        // "<len> <key>=<value>\n" where <len> counts the whole record, its own digits included.
        var records = new Dictionary<string, byte[]>
        {
            ["SCHILY.xattr.security.capability"] = [0x01, 0x00, 0x00, 0x02, 0x0a, 0x20, 0x3d, 0xff],
            ["SCHILY.xattr.user.a"] = Encoding.ASCII.GetBytes(new string('v', 76)), // body 98 bytes: the record length is 101, where a naive digit count gives 100
        };
        var tar = await TestUtil.WriteTarAsync(t => t.WriteEntryAsync(new KoTarEntry("f", TarEntryType.File, 0x1a4, 0, 0) { PaxRecords = records }, default).AsTask());

        Assert.Equal((byte)'x', tar[156]);
        var size = (int)ParseOctal(tar.AsSpan(124, 12));
        var body = tar.AsSpan(512, size);
        var parsed = new Dictionary<string, byte[]>();
        while (body.Length > 0)
        {
            var space = body.IndexOf((byte)' ');
            var length = int.Parse(Encoding.ASCII.GetString(body[..space]), System.Globalization.CultureInfo.InvariantCulture);
            var record = body[..length];
            Assert.Equal((byte)'\n', record[^1]);
            var kv = record[(space + 1)..^1];
            var eq = kv.IndexOf((byte)'=');
            parsed[Encoding.UTF8.GetString(kv[..eq])] = kv[(eq + 1)..].ToArray();
            body = body[length..];
        }

        Assert.Equal(records.Keys.Order(StringComparer.Ordinal), parsed.Keys.Order(StringComparer.Ordinal));
        foreach (var (k, v) in records)
        {
            Assert.Equal(v, parsed[k]);
        }

        // Keys are written in ordinal order, so the bytes do not depend on dictionary order.
        var reversed = records.Reverse().ToDictionary(kv => kv.Key, kv => kv.Value);
        var again = await TestUtil.WriteTarAsync(t => t.WriteEntryAsync(new KoTarEntry("f", TarEntryType.File, 0x1a4, 0, 0) { PaxRecords = reversed }, default).AsTask());
        Assert.Equal(tar, again);
    }

    /// <summary>
    /// The ustar uid/gid fields hold 7 octal digits (max 2097151) and mtime 11 (max 8589934591, in 2242). Larger values
    /// are legal (BuildPlan accepts SOURCE_DATE_EPOCH up to 253402300799) and must still read back exactly, e.g. via
    /// PAX "uid"/"gid"/"mtime" records as Go's archive/tar writes them, never silently truncated.
    /// </summary>
    [Theory]
    [InlineData(2_097_151, 0L)] // the largest uid that fits
    [InlineData(3_000_000, 0L)]
    [InlineData(0, 8_589_934_591L)] // the largest mtime that fits
    [InlineData(0, 10_000_000_000L)] // 2286-11-20, a valid SOURCE_DATE_EPOCH
    public async Task Large_ids_and_times_read_back_exactly(int id, long mtime)
    {
        var tar = await TestUtil.WriteTarAsync(t => t.WriteEntryAsync(new KoTarEntry("d", TarEntryType.Directory, 0x1ed, 0, mtime) { Uid = id, Gid = id }, default).AsTask());

        var (entry, _) = Assert.Single(TestUtil.ReadTar(tar));
        Assert.Equal("d/", entry.Name);
        Assert.Equal(id, entry.Uid);
        Assert.Equal(id, entry.Gid);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(mtime), entry.ModificationTime);
    }

    [Fact]
    public async Task Content_overload_without_stream_rejects_non_empty_file()
    {
        await using var tar = new DeterministicTarWriter(new MemoryStream());
        await Assert.ThrowsAsync<InvalidOperationException>(() => tar.WriteEntryAsync(new KoTarEntry("f", TarEntryType.File, 0x1a4, 10, 0), default).AsTask());
    }

    [Fact]
    public async Task Content_shorter_than_declared_size_is_an_error()
    {
        await using var tar = new DeterministicTarWriter(new MemoryStream());
        var ex = await Assert.ThrowsAsync<IOException>(() => tar.WriteEntryAsync(new KoTarEntry("short", TarEntryType.File, 0x1a4, 10, 0), new MemoryStream(new byte[3]), default).AsTask());
        Assert.Contains("short", ex.Message);
    }

    [Fact]
    public async Task Finish_twice_writes_the_end_blocks_once()
    {
        var ms = new MemoryStream();
        await using (var tar = new DeterministicTarWriter(ms, leaveOpen: true))
        {
            await tar.FinishAsync(default);
            await tar.FinishAsync(default);
        }

        Assert.Equal(1024, ms.Length);
    }

    private static System.Formats.Tar.TarEntryType Bcl(TarEntryType t) => t switch
    {
        TarEntryType.File => System.Formats.Tar.TarEntryType.RegularFile,
        TarEntryType.Directory => System.Formats.Tar.TarEntryType.Directory,
        TarEntryType.Symlink => System.Formats.Tar.TarEntryType.SymbolicLink,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    private static long IndependentChecksum(ReadOnlySpan<byte> header)
    {
        long sum = 0;
        for (var i = 0; i < 512; i++)
        {
            sum += i is >= 148 and < 156 ? (byte)' ' : header[i];
        }

        return sum;
    }

    private static long ParseOctal(ReadOnlySpan<byte> field)
    {
        var text = Encoding.ASCII.GetString(field).Trim('\0', ' ');
        return text.Length == 0 ? 0 : Convert.ToInt64(text, 8);
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? field : field[..end]);
    }
}
