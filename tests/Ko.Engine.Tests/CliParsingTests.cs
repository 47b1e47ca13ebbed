using Ko.Cli;

namespace Ko.Engine.Tests;

public sealed class CliParsingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>An explicit, minimal environment: no KO_DOCKER_REPO, and a cache in a temp directory.</summary>
    private Dictionary<string, string?> Env() => new()
    {
        ["PATH"] = "/usr/bin:/bin",
        ["HOME"] = _dir.Path,
        ["KOCACHE"] = _dir.Combine("kocache"),
    };

    private async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await KoCli.RunAsync(args, output, error, Env(), CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Unknown_flag_fails_with_a_message_on_standard_error_only()
    {
        var (code, stdout, stderr) = await RunAsync("build", "--no-such-flag", ".");

        Assert.Equal(1, code);
        Assert.Contains("--no-such-flag", stderr);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Compression_accepts_only_gzip_or_zstd()
    {
        var (code, stdout, stderr) = await RunAsync("build", "--compression", "brotli", ".");

        Assert.Equal(1, code);
        Assert.Contains("brotli", stderr);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Build_without_an_import_path_builds_the_current_directory_as_ko()
    {
        // ko pkg/commands/build.go: no argument means ".". Here "." is no Go package, so the build of "." fails.
        var (code, stdout, stderr) = await RunAsync("build", "--push=false", "-C", _dir.Path);

        Assert.Equal(1, code);
        Assert.Contains("resolve . in", stderr);
        Assert.DoesNotContain("Required argument", stderr);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Version_prints_the_version()
    {
        var (code, stdout, stderr) = await RunAsync("version");

        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+\S*\r?\n$", stdout);
        Assert.Equal(string.Empty, stderr);
        var expected = typeof(KoCli).Assembly.GetName().Version!;
        Assert.StartsWith($"{expected.Major}.{expected.Minor}.{expected.Build}", stdout);
    }

    [Fact]
    public async Task Push_without_ko_docker_repo_fails_with_KO1003()
    {
        var (code, stdout, stderr) = await RunAsync("build", "--push=true", ".");

        Assert.Equal(1, code);
        Assert.Contains("KO1003", stderr);
        Assert.Contains("KO_DOCKER_REPO", stderr);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Push_is_the_default()
    {
        // Without --push the command must behave as --push=true: with no KO_DOCKER_REPO that is KO1003.
        var (code, _, stderr) = await RunAsync("build", ".");

        Assert.Equal(1, code);
        Assert.Contains("KO1003", stderr);
    }

    [Theory]
    [InlineData("--image-label", "nokey")]
    [InlineData("--image-label", "=value")]
    [InlineData("--image-annotation", "nokey")]
    public async Task Key_value_options_without_key_fail(string option, string value)
    {
        var (code, stdout, stderr) = await RunAsync("build", option, value, "--push=false", ".");

        Assert.Equal(1, code);
        Assert.Contains(value, stderr);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Negative_jobs_fail()
    {
        var (code, _, stderr) = await RunAsync("build", "--jobs", "-1", "--push=false", ".");

        Assert.Equal(1, code);
        Assert.Contains("--jobs", stderr);
    }

    [Fact]
    public async Task Invalid_tag_is_reported_with_its_code()
    {
        var (code, stdout, stderr) = await RunAsync("build", "--push=false", "--tags=-bad", ".");

        Assert.Equal(1, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains("KO1004", stderr);
        Assert.Contains("-bad", stderr);
    }

    [Fact]
    public async Task Invalid_platform_is_KO1001()
    {
        var (code, _, stderr) = await RunAsync("build", "--push=false", "--platform", "linux/foo", ".");

        Assert.Equal(1, code);
        Assert.Contains("KO1001", stderr);
    }

    [Theory]
    [InlineData("--image-label=")]
    [InlineData("--image-annotation=")]
    [InlineData("--image-label")]
    public async Task An_empty_label_or_annotation_is_an_error_line_not_an_abort(string flag)
    {
        // The key=value check asked for the option's value, which throws when the value is missing: the process
        // aborted (exit 134) with an unhandled InvalidOperationException and its stack trace.
        var (code, stdout, stderr) = await RunAsync("build", ".", "--push=false", flag);

        Assert.Equal(1, code);
        Assert.Contains(flag.TrimEnd('='), stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Equal(string.Empty, stdout);
    }

    [Theory]
    [InlineData("-u", "x", "-p")]
    [InlineData("-p", "pw", "-u")]
    [InlineData("--password-stdin", "-u")]
    public async Task Login_with_a_flag_missing_its_value_is_an_error_line_not_an_abort(params string[] flags)
    {
        var (code, stdout, stderr) = await RunAsync(["login", "127.0.0.1:1", .. flags]);

        Assert.Equal(1, code);
        Assert.Contains("Required argument missing", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Login_to_a_registry_written_with_a_password_never_echoes_it()
    {
        LoginCommand.Input = new StringReader("stdin-pw\n");
        try
        {
            var (code, stdout, stderr) = await RunAsync("login", "user:s3cr3t-in-name@127.0.0.1:1", "-u", "user", "--password-stdin");

            Assert.Equal(1, code);
            Assert.Contains("KO1004", stderr);
            Assert.DoesNotContain("s3cr3t", stdout + stderr);
            Assert.False(File.Exists(_dir.Combine(".docker", "config.json")));
        }
        finally
        {
            LoginCommand.Input = null;
        }
    }

    [Fact]
    public async Task Login_password_stdin_that_never_ends_is_refused_at_the_cap()
    {
        var endless = new CountingReader('x', 8 << 20);
        LoginCommand.Input = endless;
        try
        {
            var (code, _, stderr) = await RunAsync("login", "127.0.0.1:1", "-u", "user", "--password-stdin");

            Assert.Equal(1, code);
            Assert.Contains("KO1004", stderr);
            Assert.True(endless.CharsRead <= 1 << 20, $"read {endless.CharsRead} characters of standard input");
        }
        finally
        {
            LoginCommand.Input = null;
        }
    }

    /// <summary>Standard input of <c>limit</c> copies of one character (a stand-in for /dev/zero).</summary>
    private sealed class CountingReader(char c, long limit) : TextReader
    {
        public long CharsRead { get; private set; }

        public override int Read(Span<char> buffer)
        {
            var n = (int)Math.Min(buffer.Length, limit - CharsRead);
            buffer[..n].Fill(c);
            CharsRead += n;
            return n;
        }

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(char[] buffer, int index, int count) => Task.FromResult(Read(buffer, index, count));

        public override int Peek() => CharsRead < limit ? c : -1;

        public override int Read()
        {
            Span<char> one = stackalloc char[1];
            return Read(one) == 0 ? -1 : one[0];
        }
    }
}
