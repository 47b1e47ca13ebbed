using System.Diagnostics;

namespace Nuke.Ko.Tests;

/// <summary>
/// A net8.0 build project (NUKE 9's target framework) referencing the packed Nuke.Ko and Ko.Engine packages builds:
/// the packages carry a net8.0 assembly, so NuGet does not refuse them (NU1201) and the task API compiles there.
/// </summary>
public sealed class Net8ConsumerTests : IDisposable
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private readonly TempDir _dir = new("nuke-net8");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_net8_console_project_referencing_the_packed_Nuke_Ko_builds()
    {
        var feed = _dir.Combine("feed");
        var env = new Dictionary<string, string?>
        {
            // A private package folder: the packages just packed are never mixed with a cached copy of the same version.
            ["NUGET_PACKAGES"] = _dir.Combine("packages"),
            ["DOTNET_CLI_HOME"] = _dir.Combine("cli-home"),
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["MSBuildExtensionsPath"] = null,
            ["MSBUILD_EXE_PATH"] = null,
            ["MSBuildSDKsPath"] = null,
        };
        // The test project's build made only the net10.0 assemblies; the package needs both. An up-to-date build is a
        // no-op; the machine's own package cache serves the restore.
        var buildEnv = env.Where(e => e.Key != "NUGET_PACKAGES").ToDictionary();
        await RunAsync(["build", Path.Combine(Repo.Root, "src", "Nuke.Ko"), "-c", Configuration, "--nologo"], Repo.Root, buildEnv);
        foreach (var project in new[] { "Ko.Engine", "Nuke.Ko" })
        {
            await RunAsync(["pack", Path.Combine(Repo.Root, "src", project), "-c", Configuration, "--no-build", "-o", feed, "--nologo"], Repo.Root, env);
        }

        // Third-party packages come from the machine's package cache, used as a read-only local feed.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        _dir.WriteFile("app/nuget.config", $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /><add key="feed" value="{feed}" /><add key="cache" value="{cache}" /></packageSources></configuration>
            """);
        _dir.WriteFile("app/App.csproj", """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net8.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <UseAppHost>false</UseAppHost> <!-- the apphost pack for 8.0 is not in the cache used as a feed -->
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Nuke.Ko" Version="0.1.0" />
              </ItemGroup>
            </Project>
            """);
        _dir.WriteFile("app/Program.cs", """
            using static Nuke.Ko.KoTasks;
            using Nuke.Ko;

            // Only Nuke.Ko namespaces: results, SBOM and compression settings are Nuke.Ko's own types.
            var settings = new KoBuildSettings().SetImportPath("./cmd/app").SetPlatforms("linux/amd64").DisablePush()
                .SetSbom(KoSbomFormat.CycloneDx).SetSbomAttach(KoSbomAttachment.Tag).SetCompression(KoLayerCompression.Gzip);
            Func<Task<KoBuildResult>> build = () => KoBuildAsync(settings);
            KoBuildResult built = new([new KoImage("example.com/app", "reg/app", "reg/app@sha256:0", "sha256:0", "application/vnd.oci.image.index.v1+json", ["linux/amd64"], ["latest"])], new KoBuildStatistics(1, 2, 0, 0, 0, 0));
            var deploy = new KoResolveSettings().SetImages(built).SetFile("deploy.yaml");
            Func<KoResolveResult> resolve = () => KoResolve(deploy);
            Func<KoApplyResult> apply = () => KoApply(_ => _.SetImages(built).SetFile("deploy.yaml"));
            Func<KoPushResult> push = () => KoPush(_ => _.SetSource("oci:layout").SetSbomAttach(KoSbomAttachment.Referrers));
            IReadOnlyList<KoObjectResult> objects = [];
            IReadOnlyList<KoPlatformImage> platforms = built.Image.PlatformImages;
            Console.WriteLine($"{settings} {deploy} {build} {resolve} {apply} {push} {objects.Count} {platforms.Count}");
            """);
        _dir.WriteFile("app/global.json", """{ "sdk": { "version": "10.0.100", "rollForward": "latestFeature" } }""");

        await RunAsync(["build", "-c", "Release", "--nologo"], _dir.Combine("app"), env);

        Assert.DoesNotContain("Ko.Engine", await File.ReadAllTextAsync(_dir.Combine("app", "Program.cs")), StringComparison.Ordinal);
        Assert.True(File.Exists(_dir.Combine("app", "bin", "Release", "net8.0", "App.dll")));
        Assert.True(File.Exists(_dir.Combine("packages", "ko.engine", "0.1.0", "lib", "net8.0", "Ko.Engine.dll")));
    }

    private static async Task RunAsync(string[] args, string dir, IReadOnlyDictionary<string, string?> env)
    {
        var start = new ProcessStartInfo(Tools.Require("dotnet")) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env)
        {
            if (v is null)
            {
                start.Environment.Remove(k);
            }
            else
            {
                start.Environment[k] = v;
            }
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }
}
