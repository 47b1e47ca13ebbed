using System.Security.Cryptography;
using CliWrap;
using CliWrap.Buffered;

namespace Cake.Ko.Tests;

/// <summary>
/// One real <c>dotnet cake</c> run (the cake.tool pinned in .config/dotnet-tools.json) of a script that loads the
/// addin as users do, <c>#addin nuget:?package=Cake.Ko&amp;version=…&amp;loaddependencies=true</c>, from a local folder
/// feed this fixture packs into. The script pushes examples/hello to a real docker-registry, resolves its manifest,
/// then runs a task on a package that is not main, which must fail the run with KO2003.
/// </summary>
public sealed class CakeScriptRun : IAsyncLifetime
{
    public const string Version = "0.1.0-e2e";

    public RegistryFixture Registry { get; } = new();

    public string Dir { get; } = Directory.CreateTempSubdirectory("cake-ko-e2e-").FullName;

    public BufferedCommandResult Result { get; private set; } = null!;

    public string Output => Result.StandardOutput + Result.StandardError;

    public static string RepoRoot { get; } = FindRoot();

    public async Task InitializeAsync()
    {
        await Registry.InitializeAsync();
        Tools.Require("go");
        var dotnet = Tools.Require("dotnet");
        var feed = Path.Combine(Dir, "feed");
        var env = Environment();

        await RunAsync(dotnet, ["pack", Path.Combine(RepoRoot, "src", "Cake.Ko"), "-c", "Release", "-o", feed, "--artifacts-path", Path.Combine(Dir, "art"), $"-p:Version={Version}", "--disable-build-servers", "-nodeReuse:false"], RepoRoot, env);

        Directory.CreateDirectory(Path.Combine(Dir, ".config"));
        // cake.tool only: the manifest's ko.cli comes from build.sh's local feed, which this run does not have.
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoRoot, ".config", "dotnet-tools.json")))!;
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
        CopyDirectory(Path.Combine(RepoRoot, "examples", "hello"), Path.Combine(Dir, "hello"));
        Directory.CreateDirectory(Path.Combine(Dir, "hello", "lib"));
        await File.WriteAllTextAsync(Path.Combine(Dir, "hello", "lib", "lib.go"), "package lib\n\nfunc Answer() int { return 42 }\n");
        await File.WriteAllTextAsync(Path.Combine(Dir, "build.cake"), $$"""
            #addin nuget:?package=Cake.Ko&version={{Version}}&loaddependencies=true

            var repo = Argument<string>("repo");
            KoBuildResult published = null;
            Task("Publish").Does(() =>
            {
                published = KoBuild("./", new KoBuildSettings
                {
                    Repository = repo,
                    WorkingDirectory = "hello",
                    Platforms = { "linux/amd64", "linux/arm64" },
                    Tags = { "1.2.3" },
                    Ldflags = { "-X main.version=1.2.3" },
                    BuildRecordPath = "record.json",
                });
                System.IO.File.WriteAllLines("published.txt", new[] { published.Image.Name, published.Digest, published.Reference, string.Join(",", published.Platforms) });
            });
            // Deploy what was built: no repository, tags or flags here; a build would fail (no KO_DOCKER_REPO).
            Task("Resolve").IsDependentOn("Publish").Does(() =>
            {
                KoResolve("hello/k8s/deployment.yaml", new KoResolveSettings { Images = published, OutputPath = "resolved.yaml" });
                KoResolve("hello/k8s/deployment.yaml", new KoResolveSettings { BuildRecordPath = "record.json", OutputPath = "resolved-from-file.yaml" });
            });
            Task("NotMain").IsDependentOn("Resolve").Does(() =>
            {
                KoBuild("./lib", new KoBuildSettings().SetRepository(repo).SetWorkingDirectory("hello"));
            });
            RunTarget("NotMain");
            """);

        await RunAsync(dotnet, ["tool", "restore"], Dir, env);
        Result = await RunAsync(dotnet, ["cake", "build.cake", $"--repo={Registry.Host}/cake"], Dir, env, check: false);
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

    /// <summary>The process environment, less what <c>dotnet test</c> and ko read, with Cake's caches in the temp dir.</summary>
    private Dictionary<string, string?> Environment()
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["KOCACHE"] = Path.Combine(Dir, "kocache"),
            ["CAKE_PATHS_ADDINS"] = Path.Combine(Dir, "cake", "addins"),
            ["CAKE_PATHS_TOOLS"] = Path.Combine(Dir, "cake", "tools"),
            ["CAKE_PATHS_MODULES"] = Path.Combine(Dir, "cake", "modules"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["NO_COLOR"] = "1",
        };
        foreach (var name in new[] { "KO_DOCKER_REPO", "KO_DEFAULTBASEIMAGE", "KO_DEFAULTPLATFORMS", "KO_CONFIG_PATH", "SOURCE_DATE_EPOCH", "KO_DATA_DATE_EPOCH", "MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "MSBuildSDKsPath", "MSBuildLoadMicrosoftTargetsReadOnly", "VSTEST_HOST_DEBUG" })
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

    private static void CopyDirectory(string source, string destination)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static string FindRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { Path.GetDirectoryName(sourceFile), AppContext.BaseDirectory })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "KoAddins.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("KoAddins.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>What the one cake run did, checked against the real registry with skopeo.</summary>
public sealed class CakeScriptTests(CakeScriptRun run) : IClassFixture<CakeScriptRun>
{
    private string[] Published => File.ReadAllLines(Path.Combine(run.Dir, "published.txt"));

    [Fact]
    public async Task KoBuild_pushes_the_image_whose_digest_skopeo_sees()
    {
        Assert.True(File.Exists(Path.Combine(run.Dir, "published.txt")), run.Output);
        var (name, digest, reference, platforms) = (Published[0], Published[1], Published[2], Published[3]);
        Assert.StartsWith($"{run.Registry.Host}/cake/hello-", name, StringComparison.Ordinal);
        Assert.Equal($"{name}:1.2.3@{digest}", reference); // a tag other than latest is printed, as ko does
        Assert.Equal("linux/amd64,linux/arm64", platforms);
        Assert.Single(run.Output.Split('\n'), l => l.Contains($"Built example.com/hello as {reference}", StringComparison.Ordinal)); // one line per image, from the engine

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var raw = await Cli.Wrap(Tools.Require("skopeo")).WithArguments(["inspect", "--raw", "--tls-verify=false", $"docker://{name}:1.2.3"])
            .ExecuteBufferedAsync(System.Text.Encoding.Latin1, timeout.Token);
        var bytes = System.Text.Encoding.Latin1.GetBytes(raw.StandardOutput);
        Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    [Fact]
    public void KoResolve_writes_the_manifest_with_the_digest_reference()
    {
        var resolved = File.ReadAllText(Path.Combine(run.Dir, "resolved.yaml"));
        Assert.Contains($"image: {Published[2]}", resolved, StringComparison.Ordinal);
        Assert.DoesNotContain("image: ko://", resolved, StringComparison.Ordinal);
        Assert.Contains("# The hello example", resolved, StringComparison.Ordinal); // comments kept
    }

    [Fact]
    public async Task KoResolve_with_the_build_result_or_the_record_file_deploys_the_published_image_without_a_second_push()
    {
        var reference = Published[2];
        Assert.Contains($"image: {reference}", File.ReadAllText(Path.Combine(run.Dir, "resolved.yaml")), StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(Path.Combine(run.Dir, "resolved.yaml")), File.ReadAllText(Path.Combine(run.Dir, "resolved-from-file.yaml")));
        var record = await global::Ko.Engine.Records.BuildRecord.ReadAsync(Path.Combine(run.Dir, "record.json"));
        var image = Assert.Single(record.Images);
        Assert.Equal(reference, image.Reference);
        Assert.Equal(["linux/amd64", "linux/arm64"], image.PlatformImages.Select(p => p.Platform.ToString()));
        Assert.Equal("embedded:static", image.Base?.Name);

        // The registry received one image: one repository, tagged 1.2.3 only (a rebuild would have added latest).
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var catalog = await http.GetStringAsync($"http://{run.Registry.Host}/v2/_catalog");
        var repository = Published[0][(run.Registry.Host.Length + 1)..];
        Assert.Equal($$"""{"repositories":["{{repository}}"]}""", catalog.Trim());
        using var tags = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"http://{run.Registry.Host}/v2/{repository}/tags/list"));
        var imageTags = tags.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).Where(t => !t.StartsWith("sha256-", StringComparison.Ordinal));
        Assert.Equal(["1.2.3"], imageTags);
        Assert.Equal(2, run.Output.Split('\n').Count(l => l.Contains("Resolved 1 import path(s) from the build record", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_non_main_package_fails_the_task_with_KO2003_and_a_non_zero_exit_code()
    {
        Assert.NotEqual(0, run.Result.ExitCode);
        Assert.Contains("Error: KO2003: './lib' (example.com/hello/lib) is package lib, not package main", run.Output, StringComparison.Ordinal);
        Assert.Contains("An error occurred when executing task 'NotMain'", run.Output, StringComparison.Ordinal);
    }
}
