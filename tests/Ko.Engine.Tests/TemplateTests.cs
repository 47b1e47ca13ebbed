using Ko.Engine.Configuration;

namespace Ko.Engine.Tests;

public sealed class TemplateTests : IDisposable
{
    private readonly TempDir _dir = new();
    private int _goEnvRuns;

    public void Dispose() => _dir.Dispose();

    private TemplateContext Context(Dictionary<string, string?>? env = null) =>
        new(env ?? new() { ["VERSION"] = "1.2.3", ["PATH"] = Environment.GetEnvironmentVariable("PATH") }, _dir.Path, DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), _ =>
        {
            Interlocked.Increment(ref _goEnvRuns);
            return Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string> { ["GOOS"] = "linux", ["GOVERSION"] = "go1.24" });
        });

    private static Task<string> Expand(TemplateContext c, string text) => c.ExpandAsync(text, ".ko.yaml: builds[0].ldflags", CancellationToken.None);

    [Theory]
    [InlineData("-X main.version={{.Env.VERSION}}", "-X main.version=1.2.3")]
    [InlineData("{{ .Env.VERSION }}/{{.Env.VERSION}}", "1.2.3/1.2.3")]
    [InlineData("{{.Date}}", "2023-11-14T22:13:20Z")]
    [InlineData("t={{.Timestamp}}", "t=1700000000")]
    [InlineData("{{.GoEnv.GOOS}}-{{.GoEnv.GOVERSION}}", "linux-go1.24")]
    [InlineData("no templates", "no templates")]
    public async Task Expands(string text, string expected)
    {
        Assert.Equal(expected, await Expand(Context(), text));
    }

    [Fact]
    public async Task Git_and_go_env_run_only_when_asked_and_once()
    {
        var c = Context();
        await Expand(c, "{{.Env.VERSION}} {{.Date}}");
        Assert.False(c.GitRan);
        Assert.False(c.GoEnvRan);
        await Expand(c, "{{.GoEnv.GOOS}}");
        await Expand(c, "{{.GoEnv.GOOS}}");
        Assert.Equal(1, _goEnvRuns);
    }

    [Theory]
    [InlineData("{{.Env.NOPE}}", "NOPE")]
    [InlineData("{{.GoEnv.NOPE}}", "NOPE")]
    [InlineData("{{.Git.Nope}}", "Nope")]
    [InlineData("{{.Version}}", ".Version")]
    [InlineData("{{ printf \"x\" }}", "printf")]
    public async Task Missing_or_unknown_key_is_KO1103_naming_key_and_file(string text, string key)
    {
        var ex = await Assert.ThrowsAsync<KoException>(() => Expand(Context(), text));
        Assert.Equal("KO1103", ex.Code);
        Assert.Contains(key, ex.Message);
        Assert.Contains(".ko.yaml: builds[0].ldflags", ex.Message);
    }

    [Fact]
    public async Task Git_fields_come_from_the_work_tree()
    {
        var env = new Dictionary<string, string?>
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH"),
            ["HOME"] = _dir.Path,
            ["GIT_AUTHOR_NAME"] = "t", ["GIT_AUTHOR_EMAIL"] = "t@example.com", ["GIT_COMMITTER_NAME"] = "t", ["GIT_COMMITTER_EMAIL"] = "t@example.com",
            ["GIT_COMMITTER_DATE"] = "1700000000 +0000", ["GIT_AUTHOR_DATE"] = "1700000000 +0000",
        };
        async Task Git(params string[] args)
        {
            var r = await CliWrap.Cli.Wrap("git").WithArguments(args).WithWorkingDirectory(_dir.Path).WithEnvironmentVariables(env).WithValidation(CliWrap.CommandResultValidation.None).ExecuteAsync();
            Assert.Equal(0, r.ExitCode);
        }

        await Git("init", "-q", "-b", "main");
        _dir.WriteFile("a.txt", "a");
        await Git("add", "a.txt");
        await Git("commit", "-q", "-m", "one");
        await Git("tag", "v1.0.0");

        var c = Context(env);
        var text = await Expand(c, "{{.Git.Branch}} {{.Git.Tag}} {{.Git.CommitTimestamp}} {{.Git.TreeState}} {{.Git.IsClean}} {{.Git.ShortCommit}} {{.Git.FullCommit}}");
        var parts = text.Split(' ');
        Assert.Equal(["main", "v1.0.0", "1700000000", "clean", "true"], parts[..5]);
        Assert.Equal("2023-11-14T22:13:20Z", await Expand(Context(env), "{{.Git.CommitDate}}"));
        Assert.StartsWith(parts[5], parts[6]);
        Assert.Equal(40, parts[6].Length);
        Assert.True(c.GitRan);

        _dir.WriteFile("a.txt", "changed");
        Assert.Equal("dirty true", await Expand(Context(env), "{{.Git.TreeState}} {{.Git.IsDirty}}"));
    }

    [Fact]
    public async Task The_build_env_wins_over_the_process_env_in_Env_and_GoEnv()
    {
        // ko pkg/build/gobuild.go createTemplateData: .Env is the process env with the build's env on top; .GoEnv takes
        // the env's value for every key go env knows (and only those).
        var c = Context().WithBuildEnvironment(new Dictionary<string, string?> { ["VERSION"] = "baz", ["GOOS"] = "windows", ["EXTRA"] = "x" });

        Assert.Equal("baz windows x", await Expand(c, "{{.Env.VERSION}} {{.GoEnv.GOOS}} {{.Env.EXTRA}}"));
        Assert.Equal("1.2.3 linux", await Expand(Context(), "{{.Env.VERSION}} {{.GoEnv.GOOS}}"));
        var ex = await Assert.ThrowsAsync<KoException>(() => Expand(c, "{{.GoEnv.EXTRA}}"));
        Assert.Equal("KO1103", ex.Code);
    }

    [Fact]
    public async Task Env_LDFLAGS_is_defined_and_empty_as_in_ko()
    {
        Assert.Equal("[]", await Expand(Context(), "[{{.Env.LDFLAGS}}]"));
    }

    [Fact]
    public async Task Outside_a_git_work_tree_the_tree_is_clean_and_the_commit_date_is_go_zero_time()
    {
        // ko pkg/internal/git/info.go: GetInfo fails outside a repository and the zero Info renders TreeState "clean",
        // IsClean true, CommitDate 0001-01-01T00:00:00Z.
        var env = new Dictionary<string, string?> { ["PATH"] = Environment.GetEnvironmentVariable("PATH"), ["GIT_CEILING_DIRECTORIES"] = Path.GetDirectoryName(_dir.Path), ["HOME"] = _dir.Path };

        var text = await Expand(Context(env), "{{.Git.TreeState}} {{.Git.IsClean}} {{.Git.IsDirty}} {{.Git.CommitDate}} [{{.Git.Branch}}]");

        Assert.Equal("clean true false 0001-01-01T00:00:00Z []", text);
    }
}
