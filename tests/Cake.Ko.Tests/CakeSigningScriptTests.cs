using CliWrap;
using CliWrap.Buffered;

namespace Cake.Ko.Tests;

/// <summary>
/// One real <c>dotnet cake</c> run of a script that loads the packed addin as users do and signs: KoGenerateKey makes
/// two key pairs, KoBuild with <c>SignKey</c> pushes and signs examples/hello, KoSign appends a second signature,
/// KoVerify checks both, and KoVerify of an unsigned image fails the run with KO5006. containers/image
/// (<see cref="CosignCheck"/>) verifies the signatures independently.
/// </summary>
public sealed class CakeSigningScriptRun : IAsyncLifetime
{
    public const string Version = "0.1.0-e2esign";
    public const string Password = "pw-Cake-Signing-71d2";

    public RegistryFixture Registry { get; } = new();

    public string Dir { get; } = Directory.CreateTempSubdirectory("cake-ko-sign-").FullName;

    public BufferedCommandResult Result { get; private set; } = null!;

    public string Output => Result.StandardOutput + Result.StandardError;

    public async Task InitializeAsync()
    {
        await Registry.InitializeAsync();
        Tools.Require("go");
        var dotnet = Tools.Require("dotnet");
        var root = CakeScriptRun.RepoRoot;
        var feed = Path.Combine(Dir, "feed");
        var env = Environment();
        await RunAsync(dotnet, ["pack", Path.Combine(root, "src", "Cake.Ko"), "-c", "Release", "-o", feed, "--artifacts-path", Path.Combine(Dir, "art"), $"-p:Version={Version}", "--disable-build-servers", "-nodeReuse:false"], root, env);

        Directory.CreateDirectory(Path.Combine(Dir, ".config"));
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(root, ".config", "dotnet-tools.json")))!;
        manifest["tools"]!.AsObject().Remove("ko.cli");
        await File.WriteAllTextAsync(Path.Combine(Dir, ".config", "dotnet-tools.json"), manifest.ToJsonString());
        await File.WriteAllTextAsync(Path.Combine(Dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        var hello = Path.Combine(root, "examples", "hello");
        foreach (var file in Directory.EnumerateFiles(hello, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(Dir, "hello", Path.GetRelativePath(hello, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        await File.WriteAllTextAsync(Path.Combine(Dir, "build.cake"), $$"""
            #addin nuget:?package=Cake.Ko&version={{Version}}&loaddependencies=true

            var repo = Argument<string>("repo");
            Task("Keys").Does(() =>
            {
                KoGenerateKey("release");
                KoGenerateKey("ci");
            });
            Task("Publish").IsDependentOn("Keys").Does(() =>
            {
                var published = KoBuild("./", new KoBuildSettings
                {
                    Repository = repo,
                    WorkingDirectory = "hello",
                    Platforms = { "linux/amd64" },
                    SignKey = "release.key",
                    SignAnnotations = { ["pipeline"] = "cake" },
                });
                var appended = KoSign(new[] { published.Reference }, new KoSignSettings { Key = "ci.key" });
                var verified = KoVerify(new[] { published.Reference }, new KoVerifySettings { Key = "release.pub" });
                KoVerify(new[] { published.Reference }, new KoVerifySettings { Key = "ci.pub" });
                System.IO.File.WriteAllLines("signed.txt", new[] { published.Image.Name, published.Digest, verified[0], appended[0] });
            });
            Task("Unsigned").IsDependentOn("Publish").Does(() =>
            {
                var unsigned = KoBuild("./", new KoBuildSettings { Repository = repo + "/unsigned", WorkingDirectory = "hello", Platforms = { "linux/amd64" } });
                System.IO.File.WriteAllText("unsigned.txt", unsigned.Reference);
                KoVerify(new[] { unsigned.Reference }, new KoVerifySettings { Key = "release.pub" });
            });
            RunTarget("Unsigned");
            """);

        await RunAsync(dotnet, ["tool", "restore"], Dir, env);
        Result = await RunAsync(dotnet, ["cake", "build.cake", $"--repo={Registry.Host}/cakesign"], Dir, env, check: false);
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Dictionary<string, string?> Environment()
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["KOCACHE"] = Path.Combine(Dir, "kocache"),
            ["KO_SIGN_PASSWORD"] = Password,
            ["CAKE_PATHS_ADDINS"] = Path.Combine(Dir, "cake", "addins"),
            ["CAKE_PATHS_TOOLS"] = Path.Combine(Dir, "cake", "tools"),
            ["CAKE_PATHS_MODULES"] = Path.Combine(Dir, "cake", "modules"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["NO_COLOR"] = "1",
        };
        foreach (var name in new[] { "KO_DOCKER_REPO", "KO_SIGN_KEY", "KO_DEFAULTBASEIMAGE", "KO_DEFAULTPLATFORMS", "KO_CONFIG_PATH", "SOURCE_DATE_EPOCH", "KO_DATA_DATE_EPOCH", "MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "MSBuildSDKsPath", "MSBuildLoadMicrosoftTargetsReadOnly", "VSTEST_HOST_DEBUG" })
        {
            env[name] = null;
        }

        return env;
    }

    private static async Task<BufferedCommandResult> RunAsync(string tool, string[] args, string dir, IReadOnlyDictionary<string, string?> env, bool check = true)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        var result = await Cli.Wrap(tool).WithArguments(args).WithWorkingDirectory(dir).WithEnvironmentVariables(env)
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(timeout.Token);
        if (check && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} exited {result.ExitCode}:\n{result.StandardOutput}\n{result.StandardError}");
        }

        return result;
    }
}

/// <summary>What the signing cake run did, checked with containers/image against the real registry.</summary>
public sealed class CakeSigningScriptTests(CakeSigningScriptRun run) : IClassFixture<CakeSigningScriptRun>
{
    [Fact]
    public async Task KoBuild_with_SignKey_and_KoSign_leave_signatures_that_KoVerify_and_containers_image_accept_for_both_keys()
    {
        var signedFile = Path.Combine(run.Dir, "signed.txt");
        Assert.True(File.Exists(signedFile), run.Output);
        var lines = File.ReadAllLines(signedFile);
        var (name, digest) = (lines[0], lines[1]);
        Assert.Equal($"{name}@{digest}", lines[2]);
        Assert.Equal($"{name}:sha256-{digest[7..]}.sig", lines[3]);
        var regd = Path.Combine(run.Dir, "registries.d");
        Directory.CreateDirectory(regd);
        await File.WriteAllTextAsync(Path.Combine(regd, "default.yaml"), $"docker:\n  {run.Registry.Host}:\n    use-sigstore-attachments: true\n");
        foreach (var pub in new[] { "release.pub", "ci.pub" })
        {
            Assert.Equal((0, "accepted"), await CosignCheck.RunAsync("verify", Path.Combine(run.Dir, pub), $"docker://{name}:latest", regd));
        }

        var unsigned = File.ReadAllText(Path.Combine(run.Dir, "unsigned.txt"));
        var rejected = await CosignCheck.RunAsync("verify", Path.Combine(run.Dir, "release.pub"), $"docker://{unsigned}", regd);
        Assert.Equal(1, rejected.ExitCode);
        Assert.Contains("no signature exists", rejected.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void KoVerify_of_an_unsigned_image_fails_the_task_with_KO5006_and_no_key_or_password_is_printed()
    {
        Assert.NotEqual(0, run.Result.ExitCode);
        Assert.Contains("KO5006", run.Output, StringComparison.Ordinal);
        Assert.Contains("An error occurred when executing task 'Unsigned'", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(CakeSigningScriptRun.Password, run.Output, StringComparison.Ordinal);
        foreach (var key in new[] { "release.key", "ci.key" })
        {
            foreach (var line in File.ReadAllLines(Path.Combine(run.Dir, key)).Where(l => !l.StartsWith("-----", StringComparison.Ordinal)))
            {
                Assert.DoesNotContain(line, run.Output, StringComparison.Ordinal);
            }
        }
    }
}
