using Ko.Engine.Go;
using Ko.Engine.Oci;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// Many commands in one <c>go build -o DIR pkg1 pkg2 ...</c> (the real go): the same binaries as one build per
/// command, at stable paths that go does not relink next time, and a clear error naming the packages when one fails.
/// </summary>
public sealed class GoBuildManyTests : IDisposable
{
    private static readonly Platform Amd64 = new("linux", "amd64");
    private readonly TempDir _dir = new("ko-buildmany");

    public void Dispose() => _dir.Dispose();

    private string Module()
    {
        var root = _dir.Combine("mod");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "go.mod"), "module example.com/many\n\ngo 1.19\n");
        foreach (var dir in new[] { "cmd/alpha", "cmd/beta", "tools/alpha", "cmd/gamma/v2" })
        {
            Directory.CreateDirectory(Path.Combine(root, dir));
            File.WriteAllText(Path.Combine(root, dir, "main.go"), $"package main\n\nimport \"fmt\"\n\nfunc main() {{ fmt.Println(\"{dir}\") }}\n");
        }

        return root;
    }

    private GoTool Go() => new(Tools.Require("go"), Repo.Environment(_dir.Combine("kocache")), NullLogger.Instance);

    [Fact]
    public async Task One_call_builds_every_command_with_the_bytes_of_a_build_per_command()
    {
        var root = Module();
        string[] packages = ["example.com/many/cmd/alpha", "example.com/many/cmd/beta", "example.com/many/tools/alpha", "example.com/many/cmd/gamma/v2"];
        var go = Go();

        var outputs = await go.BuildManyAsync(root, packages, Amd64, _dir.Combine("out"), [], new Dictionary<string, string?>(), CancellationToken.None);

        Assert.Equal(packages, outputs.Select(o => o.ImportPath));
        Assert.Equal(
            [_dir.Combine("out", "alpha"), _dir.Combine("out", "beta"), _dir.Combine("out", ".dup1", "alpha"), _dir.Combine("out", "gamma")],
            outputs.Select(o => o.Output));
        foreach (var (importPath, output) in outputs)
        {
            var single = _dir.Combine("single", importPath.Replace('/', '_'));
            await go.BuildAsync(root, importPath, Amd64, single, [], new Dictionary<string, string?>(), CancellationToken.None);
            Assert.True(File.ReadAllBytes(single).SequenceEqual(File.ReadAllBytes(output)), $"{importPath}: one call's binary differs from its own build's");
        }
    }

    [Fact]
    public async Task A_second_call_with_nothing_changed_relinks_nothing()
    {
        var root = Module();
        string[] packages = ["./cmd/alpha", "./cmd/beta"];
        var go = Go();
        var first = await go.BuildManyAsync(root, packages, Amd64, _dir.Combine("out"), [], new Dictionary<string, string?>(), CancellationToken.None);
        var before = first.Select(o => Ko.Engine.Util.UnixFileStatus.IdentityOf(o.Output)).ToList();
        var buildIds = await Task.WhenAll(first.Select(o => BuildInfoReader.ReadBuildIdAsync(o.Output, CancellationToken.None)));

        var second = await go.BuildManyAsync(root, packages, Amd64, _dir.Combine("out"), [], new Dictionary<string, string?>(), CancellationToken.None);

        Assert.Equal(before, second.Select(o => Ko.Engine.Util.UnixFileStatus.IdentityOf(o.Output)));
        Assert.Equal(buildIds, await Task.WhenAll(second.Select(o => BuildInfoReader.ReadBuildIdAsync(o.Output, CancellationToken.None))));
    }

    [Fact]
    public async Task A_command_that_does_not_compile_fails_the_call_naming_the_packages_and_go_error()
    {
        var root = Module();
        File.WriteAllText(Path.Combine(root, "cmd", "beta", "main.go"), "package main\n\nfunc main() { undefinedThing() }\n");

        var ex = await Assert.ThrowsAsync<KoException>(() => Go().BuildManyAsync(root, ["./cmd/alpha", "./cmd/beta"], Amd64, _dir.Combine("out"), [], new Dictionary<string, string?>(), CancellationToken.None));

        Assert.Equal(KoErrorCodes.BuildFailed, ex.Code);
        Assert.Contains("./cmd/beta", ex.Message);
        Assert.Contains("undefinedThing", ex.Message);
    }

    [Theory]
    [InlineData("example.com/tool", "linux", "tool")]
    [InlineData("example.com/tool/v2", "linux", "tool")]
    [InlineData("example.com/tool/v1", "linux", "v1")]
    [InlineData("example.com/tool/v02", "linux", "v02")]
    [InlineData("./cmd/app", "windows", "app.exe")]
    [InlineData("v3", "linux", "v3")]
    public void Executable_names_follow_go(string importPath, string os, string expected) =>
        Assert.Equal(expected, GoTool.ExecutableName(importPath, new Platform(os, "amd64")));
}
