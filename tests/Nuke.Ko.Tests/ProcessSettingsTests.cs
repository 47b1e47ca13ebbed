using static Nuke.Ko.KoTasks;

namespace Nuke.Ko.Tests;

/// <summary>NUKE's process settings (working directory, environment, tool path, execution timeout) on real Ko tasks.</summary>
public sealed class ProcessSettingsTests : IDisposable
{
    private readonly TempDir _dir = new("nuke-process");
    private readonly string _hello;

    public ProcessSettingsTests()
    {
        _hello = Repo.CopyHello(_dir.Combine("hello"));
        Tools.Require("go");
    }

    public void Dispose() => _dir.Dispose();

    private KoBuildSettings Local(KoBuildSettings settings) => settings
        .SetImportPath(".")
        .SetProcessWorkingDirectory(_hello)
        .SetCacheDirectory(_dir.Combine("cache"))
        .SetPlatforms("linux/amd64")
        .DisablePush()
        .SetProcessEnvironmentVariable("KO_DOCKER_REPO", null)
        .SetProcessEnvironmentVariable("KO_GO_PATH", null)
        .SetProcessEnvironmentVariable("GO_EXE", null);

    [Fact]
    public void SetProcessWorkingDirectory_and_SetProcessEnvironmentVariable_are_the_settings_ko_names_WorkingDirectory_and_Environment()
    {
        var settings = new KoBuildSettings().SetProcessWorkingDirectory("/w").SetProcessEnvironmentVariable("A", "1").AddProcessEnvironmentVariable("B", "2");
        Assert.Equal("/w", settings.WorkingDirectory);
        Assert.Equal(["A", "B"], settings.Environment.Keys.Order());
        Assert.Equal(["B"], settings.RemoveProcessEnvironmentVariable("A").Environment.Keys);
        Assert.Empty(settings.ClearProcessEnvironmentVariables().Environment);
        Assert.Throws<ArgumentException>(() => settings.AddProcessEnvironmentVariable("A", "again"));
    }

    [Fact]
    public void SetProcessToolPath_names_the_go_binary_the_build_runs()
    {
        var missing = _dir.Combine("no-such-go");

        var e = Assert.Throws<KoTaskException>(() => KoBuild(_ => Local(_).SetProcessToolPath(missing)));

        Assert.Equal("KO2001", e.Code);
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);

        // The real go through the same setting builds.
        var built = KoBuild(_ => Local(_).SetProcessToolPath(Tools.Require("go")).SetOciLayoutPath(_dir.Combine("layout")));
        Assert.StartsWith("sha256:", built.Digest, StringComparison.Ordinal);
    }

    [Fact]
    public void GO_EXE_points_at_go_as_NUKE_tool_overrides_do_and_KO_GO_PATH_wins_over_it()
    {
        var viaGoExe = _dir.Combine("go-exe-go");
        var viaKoGoPath = _dir.Combine("ko-go-path-go");

        var e = Assert.Throws<KoTaskException>(() => KoBuild(_ => Local(_).SetProcessEnvironmentVariable("GO_EXE", viaGoExe)));
        Assert.Contains(viaGoExe, e.Message, StringComparison.Ordinal);

        e = Assert.Throws<KoTaskException>(() => KoBuild(_ => Local(_).SetProcessEnvironmentVariable("GO_EXE", viaGoExe).SetProcessEnvironmentVariable("KO_GO_PATH", viaKoGoPath)));
        Assert.Contains(viaKoGoPath, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(viaGoExe, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProcessExecutionTimeout_cancels_a_task_that_runs_too_long_with_KO4022()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // A fresh cache, so go really builds: far longer than 1 ms.
        var e = await Assert.ThrowsAsync<KoTaskException>(() => KoBuildAsync(Local(new KoBuildSettings()).SetCacheDirectory(_dir.Combine("cold")).SetProcessExecutionTimeout(1)));

        Assert.Equal("KO4022", e.Code);
        Assert.Contains("ProcessExecutionTimeout of 1 ms", e.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the cancelled build took {clock.Elapsed}");

        var bad = Assert.Throws<KoTaskException>(() => KoBuild(_ => Local(_).SetProcessExecutionTimeout(0)));
        Assert.Equal("KO1004", bad.Code);
    }
}
