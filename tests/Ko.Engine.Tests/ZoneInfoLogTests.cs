using System.IO.Compression;
using Ko.Engine.Images;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Tests;

/// <summary>At -v the build says where embedded:static's /usr/share/zoneinfo came from; with none, it warns.</summary>
public sealed class ZoneInfoLogTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, formatter(state, exception)));
    }

    [Fact]
    public void The_machines_tzdata_is_named_at_debug_level()
    {
        _dir.WriteFile("zi/UTC", "utc");
        var logger = new ListLogger();

        ZoneInfo.LogSource(ZoneInfo.Find(_dir.Combine("zi")), logger);

        var (level, message) = Assert.Single(logger.Lines);
        Assert.Equal(LogLevel.Debug, level);
        Assert.Equal($"embedded:static time zones at /usr/share/zoneinfo come from the build machine's tzdata: {_dir.Combine("zi")}", message);
    }

    [Fact]
    public void Gos_zoneinfo_zip_is_named_as_such()
    {
        var goroot = _dir.Combine("go");
        Directory.CreateDirectory(Path.Combine(goroot, "lib", "time"));
        var zipPath = Path.Combine(goroot, "lib", "time", "zoneinfo.zip");
        using (var zip = ZipFile.Open(zipPath, ZipArchiveMode.Create))
        {
            using var w = new StreamWriter(zip.CreateEntry("UTC").Open());
            w.Write("utc");
        }

        var logger = new ListLogger();
        ZoneInfo.LogSource(ZoneInfo.Find(_dir.Combine("no-tzdata"), goroot), logger);

        var (level, message) = Assert.Single(logger.Lines);
        Assert.Equal(LogLevel.Debug, level);
        Assert.Equal($"embedded:static time zones at /usr/share/zoneinfo come from Go's zoneinfo.zip: {zipPath}", message);
    }

    [Fact]
    public void No_time_zone_data_at_all_is_a_warning_that_says_what_to_install()
    {
        var logger = new ListLogger();

        ZoneInfo.LogSource((ZoneInfo?)null, logger);

        var (level, message) = Assert.Single(logger.Lines);
        Assert.Equal(LogLevel.Warning, level);
        Assert.Contains("apt-get install tzdata", message);
    }
}
