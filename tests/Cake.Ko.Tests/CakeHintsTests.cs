using System.Diagnostics;
using System.Text.RegularExpressions;
using Cake.Core;
using Cake.Core.Diagnostics;
using Ko.Engine;

namespace Cake.Ko.Tests;

/// <summary>Engine errors reach a Cake script in Cake's terms (<c>Push = false</c>, <c>KoLogin(…)</c>); the CLI's message keeps its flags.</summary>
public sealed class CakeHintsTests : IDisposable
{
    private readonly TempDir _dir = new("cake-hints");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_build_that_pushes_with_no_repository_says_Push_false_not_the_flag()
    {
        var hello = CopyHello();
        var context = new FakeCakeContext(new FakeCakeEnvironment(hello, new Dictionary<string, string> { ["PATH"] = System.Environment.GetEnvironmentVariable("PATH")! }), new FakeCakeLog(Verbosity.Normal));

        var e = Assert.Throws<CakeException>(() => context.KoBuild(".", new KoBuildSettings { Platforms = { "linux/amd64" }, CacheDirectory = _dir.Combine("cache") }));

        Assert.StartsWith("KO1003: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("set `Push = false`", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--push", e.Message, StringComparison.Ordinal);
        // The engine's own message (what `dotnet ko` prints) keeps the flag.
        Assert.Contains("--push=false", Assert.IsType<KoException>(e.InnerException).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_registry_that_refuses_the_password_says_call_KoLogin_not_dotnet_ko_login()
    {
        var htpasswd = _dir.Combine("htpasswd");
        await File.WriteAllTextAsync(htpasswd, await Htpasswd("cake-user", "right-password") + "\n");
        await using var registry = await RegistryServer.StartAsync(extraConfig: $"auth:\n  htpasswd:\n    realm: ko-test\n    path: {htpasswd}\n");
        var context = new FakeCakeContext(new FakeCakeEnvironment(_dir.Path, new Dictionary<string, string> { ["DOCKER_CONFIG"] = _dir.Combine("docker") }), new FakeCakeLog(Verbosity.Normal));

        var e = Assert.Throws<CakeException>(() => context.KoLogin(registry.Host, new KoLoginSettings { Username = "cake-user", Password = "wrong-password", InsecureRegistry = true }));

        Assert.StartsWith("KO3004: ", e.Message, StringComparison.Ordinal);
        Assert.Contains($"call `KoLogin(\"{registry.Host}\", username, password)`", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("dotnet ko", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", e.Message, StringComparison.Ordinal);
        Assert.Contains($"dotnet ko login {registry.Host}", Assert.IsType<KoException>(e.InnerException).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("choose spdx, or pass --push=false to build without pushing.", "choose spdx, or set `Push = false` to build without pushing.")]
    [InlineData("for a registry without TLS use --insecure-registry)", "for a registry without TLS set `InsecureRegistry = true`)")]
    [InlineData("delete that tag or use --sbom-attach=tag.", "delete that tag or set `SbomAttach = KoSbomAttachment.Tag`.")]
    [InlineData("name the target with --to REGISTRY/REPOSITORY, or", "name the target with `To = REGISTRY/REPOSITORY`, or")]
    [InlineData("Write the record again with dotnet ko build --build-record.", "Write the record again with KoBuild(…, new KoBuildSettings { BuildRecordPath = … }).")]
    [InlineData("Store them with `dotnet ko login REGISTRY --username USER --password-stdin` (or docker login)", "Store them with `KoLogin(REGISTRY, username, password)` (or docker login)")]
    [InlineData("Sign it with 'dotnet ko sign --key KEY r@sha256:1'.", "Sign it with 'dotnet ko sign --key KEY r@sha256:1'.")]
    [InlineData("set it to $(git log -1 --format=%ct).", "set it to $(git log -1 --format=%ct).")]
    [InlineData("--sbom 'x' is not known", "`Sbom` 'x' is not known")]
    [InlineData("but --sbom none makes none", "but `Sbom = KoSbomFormat.None` makes none")]
    [InlineData("so --selector cannot be matched", "so `Selector` cannot be matched")]
    public void Hints_read_as_cake_settings(string engine, string cake) => Assert.Equal(cake, CakeHints.Instance.Rewrite(engine));

    [Fact]
    public void Every_flag_an_engine_message_names_is_a_cake_setting_or_a_command_line_only_flag()
    {
        // Flags no Cake setting has: git's (build-info messages), kubectl run's (dotnet ko run), the CLI's --key and
        // generate-key's --output-key-prefix.
        string[] commandLineOnly = ["abbrev", "abbrev-ref", "attach", "format", "key", "log-flush-frequency", "output-key-prefix", "porcelain", "restart", "rm"];
        var unmapped = EngineFlags().Where(f => CakeHints.Instance.PropertyOf(f) is null).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(commandLineOnly, unmapped);
    }

    /// <summary>Every <c>--flag</c> in the engine's source (its messages), read from the repository.</summary>
    internal static SortedSet<string> EngineFlags()
    {
        var flags = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(CakeScriptRun.RepoRoot, "src", "Ko.Engine"), "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal)))
        {
            foreach (var line in File.ReadLines(file).Where(l => !l.TrimStart().StartsWith("///", StringComparison.Ordinal)))
            {
                foreach (Match m in Regex.Matches(line, @"(?<![\w-])--([a-z][a-z0-9-]*[a-z0-9])"))
                {
                    flags.Add(m.Groups[1].Value);
                }
            }
        }

        Assert.NotEmpty(flags);
        return flags;
    }

    private string CopyHello()
    {
        var source = Path.Combine(CakeScriptRun.RepoRoot, "examples", "hello");
        var target = _dir.Combine("hello");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }

        return target;
    }

    private static async Task<string> Htpasswd(string user, string password)
    {
        var start = new ProcessStartInfo(Tools.Require("htpasswd")) { ArgumentList = { "-Bbn", user, password }, RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, process.ExitCode);
        return line.Trim();
    }
}
