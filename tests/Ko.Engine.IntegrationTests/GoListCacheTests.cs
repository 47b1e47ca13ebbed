using Ko.Engine.Go;
using Ko.Engine.Util;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// go list's answer is reused while nothing it reads changed, and asked again after any change that could change it.
/// Real go, behind a wrapper that counts its runs.
/// </summary>
public sealed class GoListCacheTests : IDisposable
{
    private readonly TempDir _dir = new("ko-golist");
    private readonly Dictionary<string, string?> _env;
    private readonly string _module;
    private readonly string _countFile;
    private readonly string _go;

    public GoListCacheTests()
    {
        _env = Repo.Environment(_dir.Combine("cache"));
        _module = _dir.Combine("work", "app");
        _dir.WriteFile("work/app/go.mod", "module example.com/app\n\ngo 1.19\n");
        _dir.WriteFile("work/app/main.go", "package main\n\nfunc main() {}\n");
        _countFile = _dir.Combine("runs");
        _go = _dir.WriteFile("go-counting", $"#!/bin/sh\necho \"$1\" >> '{_countFile}'\nexec '{Tools.Require("go")}' \"$@\"\n");
        File.SetUnixFileMode(_go, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose() => _dir.Dispose();

    private int GoRuns => File.Exists(_countFile) ? File.ReadAllLines(_countFile).Length : 0;

    private GoTool Go(IReadOnlyDictionary<string, string?>? env = null) =>
        new(_go, env ?? _env, NullLogger.Instance, listCache: new GoListCache(_dir.Combine("cache", "go", "list")));

    private static Task SettleAsync() => Task.Delay(FileFingerprint.RacyWindow * 4);

    [Fact]
    public async Task An_unchanged_module_is_listed_once_and_a_same_size_edit_of_the_package_clause_is_seen()
    {
        await SettleAsync();
        var first = Assert.Single(await Go().ListAsync(_module, ["."], CancellationToken.None));
        var again = Assert.Single(await Go().ListAsync(_module, ["."], CancellationToken.None));
        Assert.Equal(1, GoRuns);
        Assert.Equal((first.ImportPath, first.Name, first.Dir), (again.ImportPath, again.Name, again.Dir));
        Assert.Equal(("example.com/app", "main"), (again.ImportPath, again.Name));

        // Same size, the old modification time put back: the change time still moves, and go is asked again.
        var main = Path.Combine(_module, "main.go");
        var mtime = File.GetLastWriteTimeUtc(main);
        await File.WriteAllTextAsync(main, "package mbin\n\nfunc main() {}\n");
        File.SetLastWriteTimeUtc(main, mtime);
        await SettleAsync();
        var edited = Assert.Single(await Go().ListAsync(_module, ["."], CancellationToken.None));

        Assert.Equal(2, GoRuns);
        Assert.Equal("mbin", edited.Name);
    }

    [Fact]
    public async Task A_new_file_a_go_work_above_or_another_environment_asks_go_again()
    {
        await SettleAsync();
        await Go().ListAsync(_module, ["."], CancellationToken.None);

        _dir.WriteFile("work/app/other.go", "package main\n");
        await SettleAsync();
        await Go().ListAsync(_module, ["."], CancellationToken.None);
        Assert.Equal(2, GoRuns);

        _dir.WriteFile("work/go.work", "go 1.19\n\nuse ./app\n");
        await SettleAsync();
        await Go().ListAsync(_module, ["."], CancellationToken.None);
        Assert.Equal(3, GoRuns);

        await Go(new Dictionary<string, string?>(_env) { ["GOFLAGS"] = "-mod=readonly" }).ListAsync(_module, ["."], CancellationToken.None);
        Assert.Equal(4, GoRuns);
        await Go().ListAsync(_module, ["."], CancellationToken.None);
        Assert.Equal(4, GoRuns); // the answer for the first environment still holds
    }

    [Fact]
    public async Task A_package_that_is_not_main_or_changed_a_moment_ago_is_not_kept()
    {
        _dir.WriteFile("work/app/lib/lib.go", "package lib\n");
        await SettleAsync();
        await Go().ListAsync(_module, ["./lib"], CancellationToken.None);
        await Go().ListAsync(_module, ["./lib"], CancellationToken.None);
        Assert.Equal(2, GoRuns);

        File.SetLastWriteTimeUtc(Path.Combine(_module, "main.go"), DateTime.UtcNow.AddSeconds(10)); // always "a moment ago"
        await Go().ListAsync(_module, ["."], CancellationToken.None);
        await Go().ListAsync(_module, ["."], CancellationToken.None);
        Assert.Equal(4, GoRuns);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"stdout\": 5, \"stamps\": []}")]
    [InlineData("{\"stamps\": [[\"/\"]]}")]
    [InlineData("[]")]
    [InlineData("{\"stdout\": \"{\\\"ImportPath\\\":\\\"evil\\\"}\", \"stamps\": [[\"/nonexistent/go.mod\", \"wrong\"]]}")]
    public async Task A_damaged_entry_is_replaced_by_go_s_answer(string damage)
    {
        await SettleAsync();
        await Go().ListAsync(_module, ["."], CancellationToken.None);
        var entry = Assert.Single(Directory.GetFiles(_dir.Combine("cache", "go", "list")));
        await File.WriteAllTextAsync(entry, damage);

        var listed = Assert.Single(await Go().ListAsync(_module, ["."], CancellationToken.None));

        Assert.Equal(2, GoRuns);
        Assert.Equal("example.com/app", listed.ImportPath);
        Assert.Null(listed.Error);
        await Go().ListAsync(_module, ["."], CancellationToken.None);
        Assert.Equal(2, GoRuns); // rewritten whole
    }
}
