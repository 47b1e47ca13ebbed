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
