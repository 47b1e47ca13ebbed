using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using CliWrap;
using CliWrap.Buffered;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// <c>dotnet ko</c> as a local tool, as <c>./build.sh</c> installs it in a clean clone: the RID-specific tool packages
/// (a pointer package, this machine's native one compiled ahead of time, and the framework-dependent <c>any</c>),
/// restored through the repository's tool manifest entry into an empty package cache, run as <c>dotnet ko version</c>.
/// build.sh itself is not run here (too slow); its pack and restore lines are checked. The native compile keeps both
/// cores busy for most of a minute, so this class runs alone, after the parallel ones.
/// </summary>
[Collection(nameof(DotnetToolTests))]
public sealed class DotnetToolTests : IDisposable
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private readonly TempDir _dir = new("ko-tool");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_packed_tool_restored_through_the_repository_manifest_runs_as_dotnet_ko_version()
    {
        var dotnet = ToolPath.Require("dotnet");
        var root = RepoRoot();
        var feed = _dir.Combine("feed");
        var env = new Dictionary<string, string?>
        {
            ["NUGET_PACKAGES"] = _dir.Combine("packages"),
            // The SDK's tool resolver cache lives under DOTNET_CLI_HOME: the user's must not learn this temp path.
            ["DOTNET_CLI_HOME"] = _dir.Combine("cli-home"),
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["MSBuildExtensionsPath"] = null,
            ["MSBUILD_EXE_PATH"] = null,
            ["MSBuildSDKsPath"] = null,
        };
        // As build.sh's dotnet_rid names it (a distribution's SDK may report its own RID, such as debian.12-x64).
        var rid = "linux-" + RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
        var project = Path.Combine(root, "src", "Ko.Cli");
        // The three packs build.sh runs; the package cache for the packs' own restores is the machine's.
        var packEnv = env.Where(e => e.Key != "NUGET_PACKAGES").ToDictionary();
        string[] common = [project, "-c", Configuration, "-o", feed, "--nologo", $"-p:KoToolRid={rid}"];
        await RunAsync(dotnet, ["pack", .. common, "-p:KoToolNative=true"], root, packEnv);
        await RunAsync(dotnet, ["pack", .. common, "-r", "any"], root, packEnv);
        await RunAsync(dotnet, ["pack", .. common, "-p:KoToolNative=true", "-r", rid], root, packEnv);

        // The manifest's ko.cli entry as committed (cake.tool is left out: it comes from nuget.org, not this feed).
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(root, ".config", "dotnet-tools.json")))!;
        var entry = manifest["tools"]!["ko.cli"] ?? throw new InvalidOperationException(".config/dotnet-tools.json has no ko.cli entry: build.sh cannot install `dotnet ko`.");
        var clone = _dir.Combine("clone");
        _dir.WriteFile("clone/.config/dotnet-tools.json", new JsonObject { ["version"] = 1, ["isRoot"] = true, ["tools"] = new JsonObject { ["ko.cli"] = entry.DeepClone() } }.ToJsonString());
        _dir.WriteFile("clone/nuget.config", $"""<?xml version="1.0" encoding="utf-8"?><configuration><packageSources><clear /><add key="local" value="{feed}" /></packageSources></configuration>""");

        await RunAsync(dotnet, ["tool", "restore"], clone, env);
        var version = await RunAsync(dotnet, ["ko", "version"], clone, env);

        Assert.Equal(Ko.Cli.KoCli.Version(), version.StandardOutput.Trim());
        Assert.Equal((string?)entry["version"], Ko.Cli.KoCli.Version());
        // This machine got the native package: one executable (no Ko.Cli.dll, no runtime), which is what ran.
        var native = Path.Combine(_dir.Combine("packages"), $"ko.cli.{rid}", Ko.Cli.KoCli.Version(), "tools", "any", rid);
        Assert.True(File.Exists(Path.Combine(native, "Ko.Cli")), $"the {rid} tool package was not restored: {string.Join(", ", Directory.GetDirectories(_dir.Combine("packages")).Select(Path.GetFileName))}");
        Assert.False(File.Exists(Path.Combine(native, "Ko.Cli.dll")));
        Assert.False(Directory.Exists(Path.Combine(_dir.Combine("packages"), "ko.cli.any")));
        var direct = await RunAsync(Path.Combine(native, "Ko.Cli"), ["version"], clone, env);
        Assert.Equal(Ko.Cli.KoCli.Version(), direct.StandardOutput.Trim());
        // The pointer package carries no implementation; the any package is the framework-dependent build.
        Assert.True(File.Exists(Path.Combine(feed, $"Ko.Cli.any.{Ko.Cli.KoCli.Version()}.nupkg")));
    }

    [Fact]
    public async Task Build_sh_packs_the_tool_into_its_feed_before_restoring_from_it()
    {
        var lines = (await File.ReadAllLinesAsync(Path.Combine(RepoRoot(), "build.sh"))).Select(l => l.Trim()).ToList();

        var packs = lines.Where(l => l.StartsWith("dotnet pack src/Ko.Cli ", StringComparison.Ordinal) && l.Contains("-o artifacts/feed", StringComparison.Ordinal) && l.Contains("-p:KoToolRid=\"$rid\"", StringComparison.Ordinal)).ToList();
        Assert.Contains(packs, l => l.Contains("-p:KoToolNative=true", StringComparison.Ordinal) && !l.Contains(" -r ", StringComparison.Ordinal));
        Assert.Contains(packs, l => l.Contains("-r any", StringComparison.Ordinal) && !l.Contains("KoToolNative", StringComparison.Ordinal));
        Assert.Contains(packs, l => l.Contains("-p:KoToolNative=true", StringComparison.Ordinal) && l.Contains("-r \"$rid\"", StringComparison.Ordinal));
        var lastPack = lines.FindLastIndex(l => l.StartsWith("dotnet pack src/Ko.Cli ", StringComparison.Ordinal));
        var forget = lines.FindIndex(l => l.Contains("toolResolverCache/*/ko.cli", StringComparison.Ordinal));
        var restore = lines.FindIndex(l => l.StartsWith("dotnet tool restore --add-source \"$PWD/artifacts/feed\"", StringComparison.Ordinal));
        var run = lines.FindIndex(l => l.StartsWith("dotnet ko version", StringComparison.Ordinal));
        Assert.True(lastPack >= 0 && forget > lastPack && restore > forget && run > restore, "build.sh must pack src/Ko.Cli into artifacts/feed, forget the SDK's record of an earlier restore, restore the tool manifest from the feed and run the tool");
    }

    private static async Task<BufferedCommandResult> RunAsync(string tool, string[] args, string dir, IReadOnlyDictionary<string, string?> env)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var result = await CliWrap.Cli.Wrap(tool).WithArguments(args).WithWorkingDirectory(dir).WithEnvironmentVariables(env)
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(timeout.Token);
        Assert.True(result.ExitCode == 0, $"{tool} {string.Join(' ', args)} exited {result.ExitCode}:\n{result.StandardOutput}\n{result.StandardError}");
        return result;
    }

    private static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(sourceFile)!); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KoAddins.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("KoAddins.sln not found above " + sourceFile);
    }
}

/// <summary>Runs <see cref="DotnetToolTests"/> alone: its native compile would slow the timing-sensitive classes.</summary>
[CollectionDefinition(nameof(DotnetToolTests), DisableParallelization = true)]
public sealed class DotnetToolTestsCollection;
