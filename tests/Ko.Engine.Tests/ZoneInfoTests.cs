using System.IO.Compression;
using Ko.Engine.Images;

namespace Ko.Engine.Tests;

/// <summary>The time-zone data embedded:static carries (ko's default base has tzdata at /usr/share/zoneinfo).</summary>
public sealed class ZoneInfoTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_tzdata_directory_is_read_in_order_with_links_inside_it_and_without_links_leaving_it()
    {
        _dir.WriteFile("zi/UTC", "utc");
        _dir.WriteFile("zi/America/New_York", "ny");
        _dir.WriteFile("outside", "secret");
        File.CreateSymbolicLink(_dir.Combine("zi", "US-Eastern"), "America/New_York");
        File.CreateSymbolicLink(_dir.Combine("zi", "localtime"), _dir.Combine("outside"));

        var zones = ZoneInfo.Find(_dir.Combine("zi"))!;

        Assert.Equal(["America", "America/New_York", "US-Eastern", "UTC"], zones.Entries.Select(e => e.Path));
        Assert.Equal("America/New_York", zones.Entries[2].Link);
        Assert.Equal(_dir.Combine("zi"), zones.Source);
    }

    [Fact]
    public async Task The_stat_stamp_stays_for_an_untouched_tree_and_changes_with_any_write_or_new_entry()
    {
        var ny = _dir.WriteFile("zi/America/New_York", "ny");
        _dir.WriteFile("zi/UTC", "utc");
        await Task.Delay(Ko.Engine.Util.FileFingerprint.RacyWindow * 3);
        var source = ZoneInfo.Locate(_dir.Combine("zi"));

        var stamp = ZoneInfo.StatStamp(source);
        Assert.NotNull(stamp);
        Assert.Equal(stamp, ZoneInfo.StatStamp(source));

        // Same size, the old modification time put back: the change time still moves.
        var mtime = File.GetLastWriteTimeUtc(ny);
        await File.WriteAllTextAsync(ny, "NY");
        File.SetLastWriteTimeUtc(ny, mtime);
        await Task.Delay(Ko.Engine.Util.FileFingerprint.RacyWindow * 3);
        var rewritten = ZoneInfo.StatStamp(source);
        Assert.NotNull(rewritten);
        Assert.NotEqual(stamp, rewritten);

        _dir.WriteFile("zi/Europe/Paris", "paris");
        await Task.Delay(Ko.Engine.Util.FileFingerprint.RacyWindow * 3);
        Assert.NotEqual(rewritten, ZoneInfo.StatStamp(source));
    }

    [Fact]
    public void A_tree_with_an_entry_changed_a_moment_ago_has_no_stat_stamp_and_no_data_has_a_fixed_one()
    {
        var utc = _dir.WriteFile("zi/UTC", "utc");
        File.SetLastWriteTimeUtc(utc, DateTime.UtcNow.AddSeconds(10)); // inside the racy window however slow this runs

        Assert.Null(ZoneInfo.StatStamp(ZoneInfo.Locate(_dir.Combine("zi"))));
        Assert.Equal("no-tzdata", ZoneInfo.StatStamp(null));
    }

    [Fact]
    public void Without_a_tzdata_directory_gos_zoneinfo_zip_is_used()
    {
        var goroot = _dir.Combine("go");
        Directory.CreateDirectory(Path.Combine(goroot, "lib", "time"));
        using (var zip = ZipFile.Open(Path.Combine(goroot, "lib", "time", "zoneinfo.zip"), ZipArchiveMode.Create))
        {
            using (var w = new StreamWriter(zip.CreateEntry("Europe/Paris").Open()))
            {
                w.Write("paris");
            }

            using (var w = new StreamWriter(zip.CreateEntry("UTC").Open()))
            {
                w.Write("utc");
            }
        }

        var zones = ZoneInfo.Find(_dir.Combine("no-tzdata"), goroot)!;

        Assert.Equal(["Europe", "Europe/Paris", "UTC"], zones.Entries.Select(e => e.Path));
        Assert.Equal("paris"u8.ToArray(), zones.Entries[1].Content);
        Assert.Equal(zones.Fingerprint(), ZoneInfo.Find(_dir.Combine("no-tzdata"), goroot)!.Fingerprint());
    }

    [Fact]
    public void A_zip_entry_that_climbs_out_is_refused()
    {
        var goroot = _dir.Combine("go");
        Directory.CreateDirectory(Path.Combine(goroot, "lib", "time"));
        using (var zip = ZipFile.Open(Path.Combine(goroot, "lib", "time", "zoneinfo.zip"), ZipArchiveMode.Create))
        {
            using var w = new StreamWriter(zip.CreateEntry("../etc/passwd").Open());
            w.Write("x");
        }

        var ex = Assert.Throws<KoException>(() => ZoneInfo.Find(_dir.Combine("no-tzdata"), goroot));

        Assert.Equal(KoErrorCodes.BaseImageUnreadable, ex.Code);
        Assert.Contains("../etc/passwd", ex.Message);
    }
}
