using Ko.Cli;

namespace Ko.Engine.Tests;

/// <summary>ko's commands and flag conventions (cobra/pflag, pkg/commands) on the <c>dotnet ko</c> command line.</summary>
public sealed class KoCliFidelityTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var env = new Dictionary<string, string?> { ["PATH"] = "/usr/bin:/bin", ["HOME"] = _dir.Path, ["KOCACHE"] = _dir.Combine("kocache") };
        var code = await KoCli.RunAsync(args, output, error, env, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("help", "build", "dotnet ko build")]
    [InlineData("help", "resolve", "dotnet ko resolve")]
    [InlineData("auth", "login", "dotnet ko auth login")]
    public async Task Help_for_a_command_names_the_program_dotnet_ko(string first, string second, string usage)
    {
        // cobra: "ko help build" is "ko build --help"; ko spells login "ko auth login".
        var (code, stdout, stderr) = first == "help" ? await RunAsync(first, second) : await RunAsync(first, second, "--help");

        Assert.Equal(0, code);
        Assert.Contains(usage, stdout);
        Assert.DoesNotContain("Ko.Cli", stdout);
        Assert.Equal(string.Empty, stderr);
    }

    [Theory]
    [InlineData("--push=maybe", "--push")]
    [InlineData("--local=yes", "--local")]
    public async Task A_bad_boolean_value_is_a_flag_error_not_an_import_path(string flag, string name)
    {
        // pflag: invalid argument "maybe" for "--push" flag (strconv.ParseBool).
        var (code, stdout, stderr) = await RunAsync("build", flag, ".");

        Assert.Equal(1, code);
        Assert.StartsWith("Error: KO1004: invalid value", stderr);
        Assert.Contains(name, stderr);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Go_boolean_spellings_are_accepted()
    {
        // --push=0 is false for Go's strconv.ParseBool: no KO_DOCKER_REPO is then needed (KO1003 would say so).
        var (code, _, stderr) = await RunAsync("build", "--push=0", "-C", _dir.Path, ".");

        Assert.Equal(1, code);
        Assert.DoesNotContain("KO1003", stderr);
        Assert.DoesNotContain("KO1004", stderr);
    }

    [Theory]
    [InlineData("--tagz", "--tags")]
    [InlineData("--platfrom", "--platform")]
    [InlineData("--base-imag", "--base-image")]
    public async Task An_unknown_flag_suggests_the_nearest_one(string typo, string suggestion)
    {
        var (code, _, stderr) = await RunAsync("build", typo, "x", ".");

        Assert.Equal(1, code);
        Assert.Contains($"did you mean {suggestion}?", stderr);
    }

    [Fact]
    public async Task An_unknown_flag_far_from_every_flag_suggests_nothing()
    {
        var (code, _, stderr) = await RunAsync("build", "--zzzzzzzz", ".");

        Assert.Equal(1, code);
        Assert.DoesNotContain("did you mean", stderr);
    }

    [Theory]
    [InlineData("completion", "tcsh")]
    [InlineData("bogus")]
    [InlineData("build", "--jobs", "zero", ".")]
    public async Task Every_error_line_has_the_Error_KOnnnn_form(params string[] args)
    {
        var (code, _, stderr) = await RunAsync(args);

        Assert.Equal(1, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches(@"^Error: KO\d{4}: ", l));
    }

    [Fact]
    public async Task Completion_bash_is_a_valid_script_that_completes_commands_and_flags()
    {
        var (code, script, _) = await RunAsync("completion", "bash");
        Assert.Equal(0, code);
        var file = _dir.WriteFile("ko.bash", script);

        var result = TestUtil.Run("bash", "-c", $"source {file}; COMP_WORDS=(ko bui); COMP_CWORD=1; _dotnet_ko; echo \"${{COMPREPLY[@]}}\"; COMP_WORDS=(ko build --disable-opt); COMP_CWORD=2; _dotnet_ko; echo \"${{COMPREPLY[@]}}\"");

        Assert.Equal("build\n--disable-optimizations\n", result);
    }

    [Theory]
    [InlineData("zsh", "bashcompinit", "--platform")]
    [InlineData("fish", "complete -c ko -n __fish_use_subcommand -a build", "-l platform")]
    [InlineData("powershell", "Register-ArgumentCompleter", "--platform")]
    public async Task Completion_exists_for_every_shell_ko_supports(string shell, string marker, string flag)
    {
        var (code, script, _) = await RunAsync("completion", shell);

        Assert.Equal(0, code);
        Assert.Contains(marker, script);
        Assert.Contains(flag, script);
    }

    [Fact]
    public async Task Disable_optimizations_reaches_go_build_as_gcflags_all_N_l()
    {
        // ko pkg/build/gobuild.go: --disable-optimizations adds -gcflags "all=-N -l".
        var cmd = new System.CommandLine.Command("build");
        var flags = new BuildFlags(cmd);
        var parse = cmd.Parse(["--disable-optimizations"]);

        var options = flags.Options(parse, new Dictionary<string, string?>(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.Equal(["-gcflags=all=-N -l"], options.BuildFlags);
        Assert.Empty(flags.Options(cmd.Parse([]), new Dictionary<string, string?>(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).BuildFlags);
    }
}
