namespace Ko.Engine.IntegrationTests;

/// <summary>
/// A local path naming a <c>.ko.yaml</c> builds[] entry whose <c>dir</c> is another module is built in that module,
/// with the entry's settings, as ko's pkg/build/gobuilds.go (builder: a local path is matched to the builder whose dir
/// holds it) and pkg/commands/options/build.go (createBuildConfigMap: dir + main) do; ko's own test data
/// (pkg/commands/options/testdata/paths) is this layout. Real go modules, joined by a local replace, no module proxy.
/// </summary>
public sealed class LocalPathEntryTests : IDisposable
{
    private readonly TempDir _dir = new("ko-localpath");
    private readonly string _root;

    public LocalPathEntryTests()
    {
        // root (module example.com/root) holds the .ko.yaml; app (module example.com/testapp) has cmd/foo, which
        // imports example.com/greet from ./greet through a replace.
        _root = _dir.Combine("root");
        _dir.WriteFile("root/go.mod", "module example.com/root\n\ngo 1.19\n");
        _dir.WriteFile("root/main.go", "package main\n\nfunc main() {}\n");
        _dir.WriteFile("root/app/go.mod", "module example.com/testapp\n\ngo 1.19\n\nrequire example.com/greet v0.0.0\n\nreplace example.com/greet => ../greet\n");
        _dir.WriteFile("root/app/cmd/foo/main.go", "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/greet\"\n)\n\nvar version = \"dev\"\n\nfunc main() { fmt.Println(greet.Hello(), version) }\n");
        _dir.WriteFile("root/app/cmd/bar/main.go", "package main\n\nfunc main() {}\n");
        _dir.WriteFile("root/greet/go.mod", "module example.com/greet\n\ngo 1.19\n");
        _dir.WriteFile("root/greet/greet.go", "package greet\n\nfunc Hello() string { return \"hello from greet\" }\n");
        _dir.WriteFile("root/.ko.yaml", "builds:\n- id: foo\n  dir: ./app\n  main: ./cmd/foo\n  ldflags: [\"-X main.version=from-the-entry\"]\n");
    }

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, string?> Env() => Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?>
    {
        ["GOPROXY"] = "off",
        ["GOFLAGS"] = "-mod=mod",
        ["GOOS"] = null,
        ["GOARCH"] = null,
        ["KO_CONFIG_PATH"] = null,
    });

    [Fact]
    public async Task A_local_path_into_another_module_is_built_there_with_the_entrys_settings()
    {
        var tarball = _dir.Combine("foo.tar");

        var run = await Repo.KoAsync(Env(), "build", "./app/cmd/foo", "-C", _root, "--push=false", "--platform", "linux/amd64", "-P", "--tarball", tarball);

        Assert.True(run.ExitCode == 0, run.ToString());
        // The image is named after the entry's import path (example.com/testapp/cmd/foo), not the local path.
        Assert.Matches(@"^ko\.local/example\.com/testapp/cmd/foo@sha256:[0-9a-f]{64}$", run.References.Single());
        using var storage = new TempDir("ko-localpath-podman");
        await Tools.PodmanAsync(storage.Path, ["load", "-i", tarball]);
        var output = await Tools.PodmanRunAsync(storage.Path, "ko.local/example.com/testapp/cmd/foo:latest");
        Assert.Equal("hello from greet from-the-entry", output.StandardOutput.Trim());
    }

    [Fact]
    public async Task A_local_path_into_another_module_that_no_entry_names_is_still_KO2002()
    {
        var run = await Repo.KoAsync(Env(), "build", "./app/cmd/bar", "-C", _root, "--push=false", "--platform", "linux/amd64");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("Error: KO2002: cannot build './app/cmd/bar'", run.Stderr.Split('\n').First(l => l.StartsWith("Error:", StringComparison.Ordinal)));
        Assert.Empty(run.Stdout);
    }
}
