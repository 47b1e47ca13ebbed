using Ko.Engine.Configuration;
using Ko.Engine.Go;
using Ko.Engine.Oci;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// Import paths come from YAML that others write and from command lines: they are data. One that looks like a go flag
/// must never reach go as a flag (no shell runs, no file is written), through <c>build</c>, through <c>resolve</c>, and
/// through the go invocations themselves (<c>--</c> before the packages).
/// </summary>
public sealed class UntrustedImportPathTests : IDisposable
{
    private readonly TempDir _dir = new("ko-untrusted");
    private readonly string _src;
    private readonly string _marker;
    private readonly string _evil;
    private readonly Dictionary<string, string?> _env;

    public UntrustedImportPathTests()
    {
        _src = Repo.CopyHello(_dir.Combine("hello"));
        _marker = _dir.Combine("marker");
        // A toolexec program: it leaves a marker, then runs the tool it was given (so a build would otherwise succeed).
        _evil = _dir.WriteFile("hello/evil.sh", $"#!/bin/sh\necho ran >> '{_marker}'\nexec \"$@\"\n");
        File.SetUnixFileMode(_evil, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _env = Repo.Environment(_dir.Combine("cache"));
    }

    public void Dispose() => _dir.Dispose();

    private string[] Payloads() =>
    [
        "ko://-toolexec=./evil.sh",
        $"-toolexec={_evil}",
        $"ko://-toolexec=/bin/sh -c 'echo ran >> {_marker}'",
        $"-o={_marker}",
        $"ko://-ldflags=-X main.x=y",
        "-mod=mod",
        $"example.com/hello/-toolexec={_evil}",
    ];

    [Fact]
    public async Task Build_refuses_an_import_path_that_is_a_go_flag_and_runs_nothing()
    {
        foreach (var payload in Payloads())
        {
            // The engine, as the Cake and NUKE faces call it.
            var layout = _dir.Combine("out-" + Guid.NewGuid().ToString("N"));
            var options = new KoBuildOptions { ImportPaths = [payload], WorkingDirectory = _src, Push = false, Platforms = ["linux/amd64"], Environment = _env, OciLayoutPath = layout };
            var ex = await Assert.ThrowsAsync<KoException>(() => new KoEngine().BuildAsync(options));
            Assert.Equal(KoErrorCodes.InvalidImportPath, ex.Code);
            Assert.Contains($"'{BuildPlan.NormalizeImportPath(payload)}'", ex.Message);
            Assert.False(File.Exists(_marker), $"{payload}: go ran a program or wrote a file it named");
            Assert.False(Directory.Exists(layout));

            if (payload.StartsWith('-'))
            {
                continue; // the command line already refuses a dash-led argument as an unknown flag
            }

            var run = await Repo.KoAsync(_env, "build", payload, "-C", _src, "--push=false", "--platform", "linux/amd64", "--oci-layout-path", layout);
            Assert.True(run.ExitCode == 1, payload + "\n" + run);
            Assert.Contains("KO2006", run.Stderr);
            Assert.Contains(BuildPlan.NormalizeImportPath(payload), run.Stderr);
            Assert.DoesNotContain("   at ", run.Stderr);
            Assert.False(File.Exists(_marker), $"{payload}: go ran a program or wrote a file it named");
            Assert.False(Directory.Exists(layout));
        }
    }

    [Fact]
    public async Task Resolve_refuses_a_reference_that_is_a_go_flag_naming_its_file_and_line_and_runs_nothing()
    {
        var yaml = _dir.WriteFile("k8s/pod.yaml", $"""
            apiVersion: v1
            kind: Pod
            metadata:
              name: good
            spec:
              containers:
              - name: ok
                image: ko://example.com/hello
              - name: evil
                image: "ko://-toolexec=/bin/sh -c 'echo ran >> {_marker}'"
            """);
        var run = await Repo.KoAsync(_env, "resolve", "-C", _src, "-f", yaml, "--push=false");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("KO2006", run.Stderr);
        Assert.Contains($"{yaml}:10:", run.Stderr);
        Assert.Contains("-toolexec=/bin/sh", run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
        Assert.False(File.Exists(_marker), "resolve let a ko:// string run a shell");
    }

    [Fact]
    public async Task Go_itself_is_always_given_the_packages_after_a_double_dash()
    {
        // Below the validation: the go invocations must treat a flag-like pattern as a package, not as a flag.
        var go = new GoTool(GoTool.Locate(_env), _env, NullLogger.Instance);
        var flag = $"-toolexec={_evil}";
        var listed = await go.ListAsync(_src, [flag], CancellationToken.None);
        Assert.Equal(flag, listed[0].ImportPath);
        Assert.NotNull(listed[0].Error);

        var build = await Assert.ThrowsAsync<KoException>(() => go.BuildAsync(_src, flag, Platform.Parse("linux/amd64"), _dir.Combine("bin", "app"), [], new Dictionary<string, string?>(), CancellationToken.None));
        Assert.Equal(KoErrorCodes.BuildFailed, build.Code);
        Assert.Contains("malformed import path", build.Message);

        await Assert.ThrowsAsync<KoException>(() => go.ExpandWildcardsAsync(_src, [$"-toolexec={_evil} ./..."], CancellationToken.None));
        Assert.False(File.Exists(_marker), "go ran the toolexec program named by a package argument");
        Assert.False(File.Exists(_dir.Combine("bin", "app")));
    }
}
