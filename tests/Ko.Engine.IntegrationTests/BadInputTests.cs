namespace Ko.Engine.IntegrationTests;

/// <summary>Bad input: a clear message naming the problem, exit code 1, and nothing half-written.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TempDir _dir = new("ko-bad");
    private readonly string _src;
    private readonly Dictionary<string, string?> _env;

    public BadInputTests()
    {
        _src = Repo.CopyHello(_dir.Combine("hello"));
        _env = Repo.Environment(_dir.Combine("cache"));
    }

    public void Dispose() => _dir.Dispose();

    private string Out => _dir.Combine("out", "layout");

    private async Task<Repo.KoRun> FailsAsync(string code, params string[] args)
    {
        var all = new List<string> { "build" };
        all.AddRange(args);
        all.AddRange(["-C", _src, "--push=false", "--platform", "linux/amd64", "--oci-layout-path", Out, "--oci-archive", _dir.Combine("out", "a.tar"), "--image-refs", _dir.Combine("out", "refs")]);
        var run = await Repo.KoAsync(_env, [.. all]);
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains(code, run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
        Assert.False(Directory.Exists(Out), "the layout must not exist after a failed build");
        Assert.False(File.Exists(_dir.Combine("out", "a.tar")));
        Assert.False(File.Exists(_dir.Combine("out", "refs")));
        return run;
    }

    [Fact]
    public async Task A_path_that_does_not_exist()
    {
        var run = await FailsAsync("KO2002", "./nope");
        Assert.Contains("nope", run.Stderr);
        Assert.Contains("directory not found", run.Stderr);
    }

    [Fact]
    public async Task A_package_that_is_not_main()
    {
        Directory.CreateDirectory(Path.Combine(_src, "lib"));
        File.WriteAllText(Path.Combine(_src, "lib", "lib.go"), "package lib\n\nfunc Answer() int { return 42 }\n");
        var run = await FailsAsync("KO2003", "./lib");
        Assert.Contains("example.com/hello/lib", run.Stderr);
        Assert.Contains("not package main", run.Stderr);
    }

    [Fact]
    public async Task A_compile_error_shows_the_compilers_output()
    {
        Directory.CreateDirectory(Path.Combine(_src, "cmd", "broken"));
        File.WriteAllText(Path.Combine(_src, "cmd", "broken", "main.go"), "package main\n\nfunc main() {\n\tundefinedThing()\n}\n");
        var run = await FailsAsync("KO2004", "./cmd/broken");
        Assert.Contains("undefined: undefinedThing", run.Stderr);
        Assert.Contains("main.go:4", run.Stderr);
    }

    [Fact]
    public async Task An_unknown_platform()
    {
        var all = new List<string> { "build", ".", "-C", _src, "--push=false", "--platform", "linux/sparc", "--oci-layout-path", Out };
        var run = await Repo.KoAsync(_env, [.. all]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("KO1001", run.Stderr);
        Assert.Contains("sparc", run.Stderr);
        Assert.False(Directory.Exists(Out));
    }

    [Fact]
    public async Task An_unreadable_kodata_file()
    {
        var link = Path.Combine(_src, "kodata", "missing.txt");
        File.CreateSymbolicLink(link, Path.Combine(_src, "does-not-exist.txt"));
        var run = await FailsAsync("KO2005", ".");
        Assert.Contains(link, run.Stderr);
    }

    [Fact]
    public async Task An_output_directory_that_cannot_be_written()
    {
        var file = _dir.Combine("a-file");
        File.WriteAllText(file, "not a directory");
        var target = Path.Combine(file, "layout");
        var run = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64", "--oci-layout-path", target);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("KO3001", run.Stderr);
        Assert.Contains(file, run.Stderr);
        Assert.Equal("not a directory", File.ReadAllText(file));
    }

    [Theory]
    [InlineData("oci:", "malformed")]
    [InlineData("oci:/definitely/not/a/layout", "not an OCI image layout")]
    public async Task A_malformed_oci_base(string baseImage, string message)
    {
        var run = await FailsAsync("KO1002", ".", "--base-image", baseImage);
        Assert.Contains(message, run.Stderr);
    }

    [Fact]
    public async Task A_failed_build_leaves_an_existing_layout_untouched()
    {
        var good = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64", "--oci-layout-path", Out);
        Assert.True(good.ExitCode == 0, good.ToString());
        var before = Snapshot(Out);
        File.WriteAllText(Path.Combine(_src, "main.go"), "package main\n\nfunc main() { broken( }\n");
        var bad = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64", "--oci-layout-path", Out, "-t", "next");
        Assert.Equal(1, bad.ExitCode);
        Assert.Equal(before, Snapshot(Out));
    }

    [Fact]
    public async Task Unknown_flags_and_bad_values_exit_1_with_a_message()
    {
        var unknown = await Repo.KoAsync(_env, "build", ".", "--no-such-flag");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("--no-such-flag", unknown.Stderr);
        var badJobs = await Repo.KoAsync(_env, "build", ".", "--jobs", "many");
        Assert.Equal(1, badJobs.ExitCode);
        Assert.Contains("many", badJobs.Stderr);
    }

    private static Dictionary<string, string> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));
}
