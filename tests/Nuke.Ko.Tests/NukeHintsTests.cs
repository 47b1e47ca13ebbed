using System.Text;
using System.Text.RegularExpressions;
using Ko.Engine;
using static Nuke.Ko.KoTasks;

namespace Nuke.Ko.Tests;

/// <summary>Engine errors reach a NUKE build in NUKE's terms (<c>SetPush(false)</c>, <c>KoTasks.KoLogin(…)</c>); the CLI's message keeps its flags.</summary>
public sealed class NukeHintsTests : IDisposable
{
    private readonly TempDir _dir = new("nuke-hints");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_build_that_pushes_with_no_repository_says_SetPush_false_not_the_flag()
    {
        var hello = Repo.CopyHello(_dir.Combine("hello"));
        Tools.Require("go");

        var e = Assert.Throws<KoTaskException>(() => KoBuild(_ => _
            .SetImportPath(".")
            .SetWorkingDirectory(hello)
            .SetCacheDirectory(_dir.Combine("cache"))
            .SetPlatforms("linux/amd64")
            .SetEnvironmentVariable("KO_DOCKER_REPO", null)));

        Assert.Equal("KO1003", e.Code);
        Assert.Contains("call `SetPush(false)`", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--push", e.Message, StringComparison.Ordinal);
        Assert.Contains("--push=false", Assert.IsType<KoException>(e.InnerException).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_registry_that_refuses_the_password_says_call_KoTasks_KoLogin()
    {
        var htpasswd = _dir.Combine("htpasswd");
        await File.WriteAllTextAsync(htpasswd, Encoding.UTF8.GetString(await Tools.RunAsync("htpasswd", "-Bbn", "nuke-user", "right-password")).Trim() + "\n");
        await using var registry = await RegistryServer.StartAsync(extraConfig: $"auth:\n  htpasswd:\n    realm: ko-test\n    path: {htpasswd}\n");

        var e = await Assert.ThrowsAsync<KoTaskException>(() => KoLoginAsync(_ => _
            .SetRegistry(registry.Host).SetUsername("nuke-user").SetPassword("wrong-password").EnableInsecureRegistry()
            .SetEnvironmentVariable("DOCKER_CONFIG", _dir.Combine("docker"))));

        Assert.Equal("KO3004", e.Code);
        Assert.Contains($"Call `KoTasks.KoLogin(_ => _.SetRegistry(\"{registry.Host}\").SetUsername(…).SetPassword(…))`", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("dotnet ko", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", e.Message, StringComparison.Ordinal);
        Assert.Contains($"dotnet ko login {registry.Host}", Assert.IsType<KoException>(e.InnerException).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("choose spdx, or pass --push=false to build without pushing.", "choose spdx, or call `SetPush(false)` to build without pushing.")]
    [InlineData("for a registry without TLS use --insecure-registry)", "for a registry without TLS call `EnableInsecureRegistry()`)")]
    [InlineData("name the target with --to REGISTRY/REPOSITORY, or", "name the target with `SetTo(REGISTRY/REPOSITORY)`, or")]
    [InlineData("Write the record again with dotnet ko build --build-record.", "Write the record again with KoTasks.KoBuild(_ => _.SetBuildRecord(…)).")]
    [InlineData("or --compression gzip.", "or `SetCompression(KoLayerCompression.Gzip)`.")]
    [InlineData("Sign it with 'dotnet ko sign --key KEY r@sha256:1'.", "Sign it with 'dotnet ko sign --key KEY r@sha256:1'.")]
    public void Hints_read_as_nuke_fluent_calls(string engine, string nuke) => Assert.Equal(nuke, NukeHints.Instance.Rewrite(engine));

    [Fact]
    public void Every_flag_an_engine_message_names_is_a_nuke_setting_or_a_command_line_only_flag()
    {
        // Flags no NUKE setting has: git's (build-info messages), kubectl run's (dotnet ko run) and
        // generate-key's --output-key-prefix.
        string[] commandLineOnly = ["abbrev", "abbrev-ref", "attach", "format", "log-flush-frequency", "output-key-prefix", "porcelain", "restart", "rm"];
        var flags = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Repo.Root, "src", "Ko.Engine"), "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal)))
        {
            foreach (var line in File.ReadLines(file).Where(l => !l.TrimStart().StartsWith("///", StringComparison.Ordinal)))
            {
                flags.UnionWith(Regex.Matches(line, @"(?<![\w-])--([a-z][a-z0-9-]*[a-z0-9])").Select(m => m.Groups[1].Value));
            }
        }

        Assert.Contains("push", flags);
        Assert.Equal(commandLineOnly, flags.Where(f => NukeHints.Instance.PropertyOf(f) is null).Order(StringComparer.Ordinal).ToList());
    }
}
