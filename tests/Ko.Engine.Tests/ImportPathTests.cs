using Ko.Engine.Go;

namespace Ko.Engine.Tests;

/// <summary>Import paths and patterns are outside input: Go's rules decide, and nothing flag-like gets through.</summary>
public sealed class ImportPathTests
{
    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("./cmd/app")]
    [InlineData("../other/cmd/app")]
    [InlineData("./cmd/../cmd/app")]
    [InlineData("./...")]
    [InlineData("...")]
    [InlineData("./cmd/...")]
    [InlineData("./cmd/my-app")]
    [InlineData("/work/src/cmd/app")]
    [InlineData("example.com/hello")]
    [InlineData("example.com/hello/cmd/...")]
    [InlineData("example.com/he...")]
    [InlineData("github.com/Org/Repo_v2/cmd/my-app~x+y")]
    [InlineData("fmt")]
    [InlineData("./dir with space/app")]
    public void Go_import_paths_relative_paths_and_wildcards_are_accepted(string pattern)
    {
        Assert.Null(ImportPaths.Problem(pattern));
        ImportPaths.Validate([pattern]);
    }

    [Theory]
    [InlineData("-toolexec=./evil.sh", "starts with '-'")]
    [InlineData("-o=/tmp/x", "starts with '-'")]
    [InlineData("-ldflags=-X main.x=y", "starts with '-'")]
    [InlineData("-mod=mod", "starts with '-'")]
    [InlineData("example.com/hello/-toolexec=x", "starts with '-'")]
    [InlineData("./-toolexec=x", "starts with '-'")]
    [InlineData("example.com//hello", "empty path element")]
    [InlineData("example.com/hello/", "ends with '/'")]
    [InlineData("example.com/./hello", "dots only")]
    [InlineData("example.com/../hello", "dots only")]
    [InlineData("example.com/hello.", "ends with a dot")]
    [InlineData("example.com/hel lo", "U+0020")]
    [InlineData("example.com/hello@v1", "'@'")]
    [InlineData("ko:example.com/hello", "':'")]
    [InlineData("ko://example.com/hello", "empty path element")]
    [InlineData("example.com/hello\n-toolexec=x", "U+000A")]
    [InlineData("example.com/hel\0lo", "U+0000")]
    [InlineData("./a\"b", "'\"'")]
    [InlineData("./a\\b", "'\\'")]
    [InlineData("", "empty")]
    public void Flags_and_malformed_paths_are_refused_with_a_reason(string pattern, string reason)
    {
        var problem = ImportPaths.Problem(pattern);
        Assert.NotNull(problem);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        var ex = Assert.Throws<KoException>(() => ImportPaths.Validate(["./ok", pattern]));
        Assert.Equal(KoErrorCodes.InvalidImportPath, ex.Code);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.DoesNotContain('\0', ex.Message);
    }

    [Fact]
    public void The_message_names_the_offending_string()
    {
        var ex = Assert.Throws<KoException>(() => ImportPaths.Validate(["-toolexec=/bin/sh -c 'touch x'"]));
        Assert.Contains("'-toolexec=/bin/sh -c 'touch x''", ex.Message);
        Assert.Contains("flag", ex.Message);
    }

    [Fact]
    public void A_very_long_path_is_refused_and_quoted_short()
    {
        var ex = Assert.Throws<KoException>(() => ImportPaths.Validate(["example.com/" + new string('a', 100_000)]));
        Assert.Contains("longer than", ex.Message);
        Assert.True(ex.Message.Length < 1000);
    }

    [Fact]
    public void Random_strings_never_throw_anything_else_and_nothing_accepted_starts_with_a_dash()
    {
        var random = new Random(11);
        const string alphabet = "-./_~+:@ \t\n\"'\\$`;|&*?abcXYZ019é\u0000\u001b";
        for (var i = 0; i < 20_000; i++)
        {
            var chars = new char[random.Next(0, 24)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            var text = new string(chars);
            var problem = ImportPaths.Problem(text);
            if (problem is null)
            {
                Assert.False(text.StartsWith('-'), text);
                Assert.DoesNotContain("/-", text, StringComparison.Ordinal);
                Assert.True(text.All(c => !char.IsControl(c) && c is not '"' and not '\'' and not '\\' and not '`' and not ';' and not '|' and not '*'), text);
            }
            else
            {
                Assert.Equal(KoErrorCodes.InvalidImportPath, Assert.Throws<KoException>(() => ImportPaths.Validate([text])).Code);
            }
        }
    }
}
