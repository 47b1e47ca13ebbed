using Ko.Cli;
using Ko.Engine.Configuration;

namespace Ko.Engine.Tests;

/// <summary>Where the signing key of a build comes from (<c>--sign-key</c> &gt; <c>KO_SIGN_KEY</c>) and the flags that reach the engine.</summary>
public sealed class SigningOptionsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private KoBuildOptions Options(string? keyFromEnv) => new()
    {
        ImportPaths = ["./cmd/app"],
        WorkingDirectory = _dir.Path,
        Push = false,
        Environment = new Dictionary<string, string?> { ["HOME"] = _dir.Path, ["KO_SIGN_KEY"] = keyFromEnv },
    };

    [Fact]
    public void The_option_beats_KO_SIGN_KEY_and_both_resolve_against_the_working_directory()
    {
        Assert.Null(BuildPlan.Create(Options(null)).SignKey);
        Assert.Null(BuildPlan.Create(Options("  ")).SignKey);
        Assert.Equal(Path.Combine(_dir.Path, "env.key"), BuildPlan.Create(Options("env.key")).SignKey);
        Assert.Equal(Path.Combine(_dir.Path, "opt.key"), BuildPlan.Create(Options("env.key") with { SignKey = "opt.key" }).SignKey);
    }

    [Fact]
    public void Attest_sbom_without_a_key_or_with_no_SBOM_is_KO1004()
    {
        var noKey = Assert.Throws<KoException>(() => BuildPlan.Create(Options(null) with { AttestSbom = true }));
        Assert.Equal((KoErrorCodes.InvalidOption, true), (noKey.Code, noKey.Message.Contains("KO_SIGN_KEY", StringComparison.Ordinal)));
        var noSbom = Assert.Throws<KoException>(() => BuildPlan.Create(Options("k.key") with { AttestSbom = true, Sbom = Ko.Engine.Sbom.SbomFormat.None }));
        Assert.Contains("--sbom none", noSbom.Message);
        Assert.True(BuildPlan.Create(Options("k.key") with { AttestSbom = true }).AttestSbom);
    }

    [Fact]
    public void The_build_flags_carry_the_key_annotations_and_attestation_and_a_bad_annotation_is_a_usage_error()
    {
        var cmd = new System.CommandLine.Command("build");
        var flags = new BuildFlags(cmd);
        var parsed = cmd.Parse(["--sign-key", "k.key", "--sign-annotation", "a=1,b=2", "--attest-sbom"]);
        var options = flags.Options(parsed, null, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Assert.Equal(("k.key", true), (options.SignKey, options.AttestSbom));
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }, options.SignAnnotations);
        Assert.NotEmpty(cmd.Parse(["--sign-annotation", "novalue"]).Errors);
    }
}
