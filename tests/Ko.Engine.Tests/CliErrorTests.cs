using System.Diagnostics;
using System.Text.RegularExpressions;
using Ko.Cli;

namespace Ko.Engine.Tests;

/// <summary>Whatever escapes the engine, the user sees one <c>Error: KOnnnn: sentence</c> line and exit code 1.</summary>
public sealed partial class CliErrorTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [GeneratedRegex(@"\b[A-Z][A-Za-z]*_[A-Za-z_]+\b")]
    private static partial Regex ResourceKey();

    private static void AssertNoStackTraceOrKey(string stderr)
    {
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("Exception:", stderr);
        Assert.DoesNotMatch(ResourceKey(), stderr);
    }

    [Fact]
    public void A_file_system_error_is_KO3011_with_the_systems_sentence()
    {
        var error = new StringWriter();

        var code = KoCli.Report(new UnauthorizedAccessException("Access to the path '/srv/out' is denied."), error, verbose: false);

        Assert.Equal(1, code);
        Assert.StartsWith("Error: KO3011: Access to the path '/srv/out' is denied.", error.ToString());
        AssertNoStackTraceOrKey(error.ToString());
        Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void An_unexpected_error_is_KO3012_asking_for_a_bug_report()
    {
        var error = new StringWriter();
        Exception thrown;
        try
        {
            throw new InvalidOperationException("Sequence contains no elements");
        }
        catch (InvalidOperationException ex)
        {
            thrown = ex;
        }

        var code = KoCli.Report(new AggregateException(thrown), error, verbose: false);

        Assert.Equal(1, code);
        Assert.StartsWith("Error: KO3012: unexpected InvalidOperationException: Sequence contains no elements.", error.ToString());
        Assert.Contains("bug", error.ToString());
        Assert.DoesNotContain("   at ", error.ToString());

        var verbose = new StringWriter();
        KoCli.Report(thrown, verbose, verbose: true);
        Assert.Contains("   at ", verbose.ToString());
    }

    [Fact]
    public async Task A_cache_that_is_a_file_is_an_error_line_not_a_crash()
    {
        var file = _dir.WriteFile("kocache", "a file");
        var output = new StringWriter();
        var error = new StringWriter();
        var env = new Dictionary<string, string?> { ["PATH"] = "/usr/bin:/bin", ["HOME"] = _dir.Path, ["KOCACHE"] = file };

        var code = await KoCli.RunAsync(["build", ".", "-C", _dir.Path, "--push=false", "--oci-layout-path", _dir.Combine("out")], output, error, env, CancellationToken.None);

        Assert.Equal(1, code);
        Assert.StartsWith("Error: KO3010: ", error.ToString());
        Assert.Contains(file, error.ToString());
        AssertNoStackTraceOrKey(error.ToString());
        Assert.Equal(string.Empty, output.ToString());
    }

    [Theory]
    [InlineData("my~app")]
    [InlineData("app+x")]
    public async Task An_image_name_that_is_not_a_valid_repository_is_KO1004_not_an_invalid_reference_written(string directory)
    {
        // Go allows ~ and + in a package directory; a repository name does not, so the image name made from it is no
        // reference at all (it was written into the layout and printed, and a registry refuses it).
        _dir.WriteFile("go.mod", "module example.com/m\n\ngo 1.19\n");
        _dir.WriteFile($"cmd/{directory}/main.go", "package main\n\nfunc main() {}\n");
        var output = new StringWriter();
        var error = new StringWriter();
        var env = new Dictionary<string, string?> { ["PATH"] = "/usr/bin:/bin", ["HOME"] = _dir.Path, ["KOCACHE"] = _dir.Combine("kocache") };

        var code = await KoCli.RunAsync(["build", $"./cmd/{directory}", "-C", _dir.Path, "--push=false", "--oci-layout-path", _dir.Combine("out")], output, error, env, CancellationToken.None);

        Assert.Equal(1, code);
        Assert.Contains("Error: KO1004: ", error.ToString());
        Assert.Contains(directory, error.ToString());
        AssertNoStackTraceOrKey(error.ToString());
        Assert.Equal(string.Empty, output.ToString());
        Assert.False(Directory.Exists(_dir.Combine("out")));
    }

    [Fact]
    public async Task Standard_output_on_a_full_disk_is_named_as_standard_output()
    {
        // `dotnet ko resolve ... > /dev/full`: the error said "Check that path" without saying which one.
        var yaml = _dir.WriteFile("plain.yaml", "a: 1\n");
        await using var full = new StreamWriter(new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1)) { AutoFlush = true };
        var error = new StringWriter();
        var env = new Dictionary<string, string?> { ["PATH"] = "/usr/bin:/bin", ["HOME"] = _dir.Path, ["KOCACHE"] = _dir.Combine("kocache") };

        var code = await KoCli.RunAsync(["resolve", "-f", yaml], full, error, env, CancellationToken.None);

        Assert.Equal(1, code);
        Assert.StartsWith("Error: KO3001: ", error.ToString());
        Assert.Contains("standard output", error.ToString());
        AssertNoStackTraceOrKey(error.ToString());
    }

    [Fact]
    public async Task The_shipped_tool_shows_system_messages_as_sentences_not_resource_keys()
    {
        // The tool as built (its runtimeconfig.json decides how the runtime words its errors), run as a process.
        var tool = Path.Combine(AppContext.BaseDirectory, "Ko.Cli");
        var blocker = _dir.WriteFile("a-file", "x");
        var start = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = _dir.Path };
        foreach (var a in new[] { "build", ".", "--push=false", "--oci-layout-path", _dir.Combine("out") })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["KOCACHE"] = Path.Combine(blocker, "cache");
        using var process = Process.Start(start)!;
        var stderrTask = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        var stderr = await stderrTask;

        Assert.True(process.ExitCode == 1, stderr);
        Assert.StartsWith("Error: KO3010: ", stderr);
        Assert.Contains(blocker, stderr);
        Assert.Contains("Could not find a part of the path", stderr);
        AssertNoStackTraceOrKey(stderr);
        Assert.Equal(string.Empty, stdout);
    }
}
