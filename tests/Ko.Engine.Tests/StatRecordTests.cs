using Ko.Engine.Images;
using Ko.Engine.Util;

namespace Ko.Engine.Tests;

/// <summary>
/// The record of a tree walk (embedded:static's time zones) that lets the next run confirm "unchanged" from the
/// recorded paths' fingerprints alone, and its bad-input twins: a damaged record is a miss, never an error or a hang.
/// </summary>
public sealed class StatRecordTests : IDisposable
{
    private const string Identity = "zoneinfo\0test";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Record => _dir.Combine("cache", "record");

    private async Task<string> RecordedTreeAsync(string key = "the-recorded-key")
    {
        _dir.WriteFile("zi/America/New_York", "ny");
        _dir.WriteFile("zi/Europe/Paris", "paris");
        _dir.WriteFile("zi/UTC", "utc");
        File.CreateSymbolicLink(_dir.Combine("zi", "US-Eastern"), "America/New_York");
        await Task.Delay(FileFingerprint.RacyWindow * 3);
        var examined = new List<(string Path, FileFingerprint Stat)>();
        Assert.NotNull(ZoneInfo.StatStamp(_dir.Combine("zi"), examined));
        Assert.Equal(7, examined.Count); // the root, two directories, three files and the link
        StatRecord.Save(Record, Identity, examined, key);
        return key;
    }

    [Fact]
    public async Task An_unchanged_tree_gives_the_recorded_key_back_and_another_walk_identity_does_not()
    {
        var key = await RecordedTreeAsync();

        // The key is the one recorded, not one computed again: nothing was listed or hashed.
        Assert.Equal(key, await StatRecord.TryReuseAsync(Record, Identity, CancellationToken.None));
        Assert.Null(await StatRecord.TryReuseAsync(Record, "zoneinfo\0elsewhere", CancellationToken.None));
        Assert.Null(await StatRecord.TryReuseAsync(_dir.Combine("cache", "none"), Identity, CancellationToken.None));
        Assert.NotEqual(StatRecord.PathFor("/c", "a"), StatRecord.PathFor("/c", "b"));
    }

    public static TheoryData<string> Changes => new()
    {
        "same-size rewrite with the modification time put back",
        "new file in a subdirectory",
        "new subdirectory",
        "file removed",
        "file renamed in its directory",
        "link pointed elsewhere",
        "chmod",
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public async Task Any_write_addition_removal_rename_or_chmod_makes_the_record_a_miss(string change)
    {
        await RecordedTreeAsync();
        var ny = _dir.Combine("zi", "America", "New_York");
        switch (change)
        {
            case "same-size rewrite with the modification time put back":
                var mtime = File.GetLastWriteTimeUtc(ny);
                await File.WriteAllTextAsync(ny, "NY");
                File.SetLastWriteTimeUtc(ny, mtime);
                break;
            case "new file in a subdirectory":
                _dir.WriteFile("zi/Europe/Berlin", "berlin");
                break;
            case "new subdirectory":
                Directory.CreateDirectory(_dir.Combine("zi", "Asia"));
                break;
            case "file removed":
                File.Delete(_dir.Combine("zi", "Europe", "Paris"));
                break;
            case "file renamed in its directory":
                File.Move(_dir.Combine("zi", "Europe", "Paris"), _dir.Combine("zi", "Europe", "Lutetia"));
                break;
            case "link pointed elsewhere":
                File.Delete(_dir.Combine("zi", "US-Eastern"));
                File.CreateSymbolicLink(_dir.Combine("zi", "US-Eastern"), "UTC");
                break;
            case "chmod":
                File.SetUnixFileMode(ny, UnixFileMode.UserRead);
                break;
        }

        Assert.Null(await StatRecord.TryReuseAsync(Record, Identity, CancellationToken.None));
    }

    [Fact]
    public async Task A_root_that_is_a_link_is_stamped_through_it_so_a_file_added_behind_it_is_a_miss()
    {
        _dir.WriteFile("real/UTC", "utc");
        var root = _dir.Combine("zi");
        Directory.CreateSymbolicLink(root, _dir.Combine("real"));
        await Task.Delay(FileFingerprint.RacyWindow * 3);
        var examined = new List<(string Path, FileFingerprint Stat)>();
        var stamp = ZoneInfo.StatStamp(root, examined);
        Assert.NotNull(stamp);
        StatRecord.Save(Record, Identity, examined, stamp);
        Assert.Equal(stamp, await StatRecord.TryReuseAsync(Record, Identity, CancellationToken.None));

        _dir.WriteFile("real/Europe/Paris", "paris"); // changes only the target directory, not the link
        await Task.Delay(FileFingerprint.RacyWindow * 3);

        Assert.Null(await StatRecord.TryReuseAsync(Record, Identity, CancellationToken.None));
        Assert.NotEqual(stamp, ZoneInfo.StatStamp(root));
    }

    [Fact]
    public async Task A_record_that_cannot_be_written_is_skipped_without_an_error()
    {
        _dir.WriteFile("cache", "a file where the records' directory belongs");
        var record = _dir.Combine("cache", "stat-records", "r");
        var examined = new List<(string Path, FileFingerprint Stat)> { (_dir.Combine("cache"), UnixFileStatus.FingerprintOf(_dir.Combine("cache"), followLinks: false)!.Value) };

        StatRecord.Save(record, Identity, examined, "k");

        Assert.Null(await StatRecord.TryReuseAsync(record, Identity, CancellationToken.None));
    }

    [Fact]
    public async Task Every_truncation_and_every_flipped_byte_of_a_record_is_a_miss_or_another_key_never_an_error()
    {
        var key = await RecordedTreeAsync();
        var good = await File.ReadAllBytesAsync(Record);

        for (var length = 0; length < good.Length; length++)
        {
            await File.WriteAllBytesAsync(Record, good[..length]);
            Assert.Null(await StatRecord.TryReuseAsync(Record, Identity, CancellationToken.None));
        }

        for (var i = 0; i < good.Length; i++)
        {
            var bad = (byte[])good.Clone();
            bad[i] ^= 0x5a;
            await File.WriteAllBytesAsync(Record, bad);
            // A flip in the recorded key gives that (unknown) key, which the layer cache does not hold; every other
            // flip changes what is compared, or the format, and misses.
            Assert.NotEqual(key, await StatRecord.TryReuseAsync(Record, Identity, CancellationToken.None));
        }

        await File.WriteAllBytesAsync(Record, [.. good, 0]);
        Assert.Null(await StatRecord.TryReuseAsync(Record, Identity, CancellationToken.None));
    }

    [Fact]
    public async Task Records_that_claim_huge_strings_or_counts_or_are_not_files_are_misses()
    {
        await RecordedTreeAsync();
        var good = await File.ReadAllBytesAsync(Record);

        // A magic string claiming 2 GB.
        await File.WriteAllBytesAsync(Record, [0xff, 0xff, 0xff, 0xff, 0x07, .. good]);
        Assert.Null(await StatRecord.TryReuseAsync(Record, Identity, CancellationToken.None));

        // A count of int.MaxValue entries after a valid header.
        using (var buffer = new MemoryStream())
        using (var writer = new BinaryWriter(buffer))
        {
            writer.Write("ko-stat-record-v1");
            writer.Write(Identity);
            writer.Write("k");
            writer.Write(int.MaxValue);
            writer.Flush();
            await File.WriteAllBytesAsync(Record, buffer.ToArray());
        }

        Assert.Null(await StatRecord.TryReuseAsync(Record, Identity, CancellationToken.None));

        // Larger than any record (sparse), a directory, and a FIFO (which would block a plain read).
        await using (var big = new FileStream(Record, FileMode.Create))
        {
            big.SetLength(64L << 20);
        }

        Assert.Null(await StatRecord.TryReuseAsync(Record, Identity, CancellationToken.None));
        File.Delete(Record);
        Directory.CreateDirectory(Record);
        Assert.Null(await StatRecord.TryReuseAsync(Record, Identity, CancellationToken.None));
        Directory.Delete(Record);
        TestUtil.Run("mkfifo", Record);
        var read = StatRecord.TryReuseAsync(Record, Identity, CancellationToken.None);
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10))));
        Assert.Null(await read);
    }

    [Fact]
    public async Task Embedded_static_records_its_time_zone_walk_and_gives_the_same_base_layer_from_the_record()
    {
        var store = new Ko.Engine.Layers.ContentStore(_dir.Combine("ko-cache"));
        var cache = new Ko.Engine.Layers.LayerCache(store);

        var first = await SyntheticBase.EmbeddedStaticAsync(store, cache, CancellationToken.None);
        var records = Path.Combine(store.Root, "stat-records");
        Assert.True(Directory.Exists(records) && Directory.EnumerateFiles(records).Any(), "the time-zone walk was not recorded");
        var second = await SyntheticBase.EmbeddedStaticAsync(store, cache, CancellationToken.None);

        var platform = Ko.Engine.Oci.Platform.Parse("linux/amd64");
        var a = await first.GetImageAsync(platform, CancellationToken.None);
        var b = await second.GetImageAsync(platform, CancellationToken.None);
        Assert.Equal(a.Layers.Select(l => l.Descriptor.Digest), b.Layers.Select(l => l.Descriptor.Digest));
    }
}
