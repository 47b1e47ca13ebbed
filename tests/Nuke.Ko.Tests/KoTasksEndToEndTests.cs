using System.Security.Cryptography;
using System.Text;
using Serilog.Events;
using static Nuke.Ko.KoTasks;

namespace Nuke.Ko.Tests;

/// <summary>KoTasks called as a NUKE target calls them, against the real docker-registry, go and skopeo.</summary>
public sealed class KoTasksEndToEndTests : IClassFixture<RegistryFixture>, IDisposable
{
    private const string Secret = "s3cr3t-Pa55word";
    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("nuke-ko");
    private readonly string _hello;

    public KoTasksEndToEndTests(RegistryFixture registry)
    {
        _registry = registry;
        _hello = Repo.CopyHello(_dir.Combine("hello"));
        Directory.CreateDirectory(Path.Combine(_hello, "cmd", "second"));
        File.WriteAllText(Path.Combine(_hello, "cmd", "second", "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"second\") }\n");
        Directory.CreateDirectory(Path.Combine(_hello, "lib"));
        File.WriteAllText(Path.Combine(_hello, "lib", "lib.go"), "package lib\n\nfunc Answer() int { return 42 }\n");
        Tools.Require("go");
    }

    public void Dispose() => _dir.Dispose();

    // What every test shares: the copy of examples/hello, its own cache, the build machine's KO_* variables out of the way.
    private KoBuildSettings Defaults(KoBuildSettings settings) => settings
        .SetWorkingDirectory(_hello)
        .SetCacheDirectory(_dir.Combine("cache"))
        .SetPlatforms("linux/amd64")
        .SetEnvironmentVariable("KO_DOCKER_REPO", null)
        .SetEnvironmentVariable("KO_DEFAULTBASEIMAGE", null)
        .SetEnvironmentVariable("KO_DEFAULTPLATFORMS", null);

    [Fact]
    public async Task KoBuild_pushes_examples_hello_and_logs_the_reference_as_a_structured_property()
    {
        var events = InMemorySink.Capture();
        var repository = $"{_registry.Host}/nuke";

        var result = KoBuild(_ => Defaults(_).SetImportPath(".").SetRepository(repository));

        var image = Assert.Single(result.Images);
        Assert.Equal("example.com/hello", image.ImportPath);
        Assert.Equal("linux/amd64", Assert.Single(image.Platforms).ToString());
        Assert.StartsWith($"{repository}/hello-", image.Reference);
        Assert.EndsWith($"@{image.Digest}", image.Reference);

        var raw = await Tools.RunAsync("skopeo", "inspect", "--raw", "--tls-verify=false", $"docker://{image.Name}:latest");
        Assert.Equal($"sha256:{Convert.ToHexStringLower(SHA256.HashData(raw))}", image.Digest.ToString());

        var built = Assert.Single(InMemorySink.Snapshot(events), e => e.Properties.TryGetValue("Reference", out var v) && v is ScalarValue { Value: var r } && r?.ToString() == image.Reference);
        Assert.Equal("Built {ImportPath} as {Reference}", built.MessageTemplate.Text);
        Assert.Equal(LogEventLevel.Information, built.Level);
        Assert.Equal("\"Nuke.Ko\"", built.Properties["SourceContext"].ToString());
    }

    [Fact]
    public async Task A_combinatorial_KoBuild_builds_two_import_paths_in_parallel()
    {
        var repository = $"{_registry.Host}/combo";

        var results = KoBuild(
            _ => Defaults(_).SetRepository(repository).EnableBaseImportPaths()
                .CombineWith(["./cmd/second", "."], (_, path) => _.SetImportPath(path)),
            degreeOfParallelism: 2);

        Assert.Equal(2, results.Count);
        Assert.Equal(["./cmd/second"], results[0].Settings.ImportPaths);
        Assert.Equal($"{repository}/second", results[0].Result.Images[0].Name);
        Assert.Equal($"{repository}/hello", results[1].Result.Images[0].Name);
        foreach (var (_, result) in results)
        {
            var image = Assert.Single(result.Images);
            var raw = await Tools.RunAsync("skopeo", "inspect", "--raw", "--tls-verify=false", $"docker://{image.Name}:latest");
            Assert.Equal(image.Digest.ToString(), $"sha256:{Convert.ToHexStringLower(SHA256.HashData(raw))}");
        }
    }

    [Fact]
    public void KoResolve_replaces_the_ko_reference_with_the_pushed_digest()
    {
        var resolveDefaults = Defaults(new KoBuildSettings());
        var result = KoResolve(_ => _
            .SetFiles(Path.Combine(_hello, "k8s"))
            .SetWorkingDirectory(resolveDefaults.WorkingDirectory)
            .SetCacheDirectory(resolveDefaults.CacheDirectory)
            .SetPlatforms("linux/amd64")
            .SetEnvironment(resolveDefaults.Environment)
            .SetRepository($"{_registry.Host}/resolve"));

        var image = Assert.Single(result.Images);
        Assert.Contains($"image: {image.Reference}", result.Text);
        Assert.DoesNotContain("ko://", result.Text.Split('\n').Where(l => !l.TrimStart().StartsWith('#')));
    }

    [Fact]
    public async Task KoResolve_with_SetImages_or_SetBuildRecord_deploys_the_published_image_and_builds_nothing()
    {
        var repository = $"{_registry.Host}/deploy";
        var record = _dir.Combine("record.json");
        var built = KoBuild(_ => Defaults(_).SetImportPath(".").SetRepository(repository).SetTags("1.2.3").SetBuildRecord(record));
        var image = Assert.Single(built.Images);

        // No repository, no go on PATH: a build here would fail.
        KoResolveSettings Deploy(KoResolveSettings _) => _.SetFiles(Path.Combine(_hello, "k8s")).SetWorkingDirectory(_hello).SetEnvironmentVariable("PATH", _dir.Combine("no-go")).SetEnvironmentVariable("KO_DOCKER_REPO", null);
        var fromResult = KoResolve(_ => Deploy(_).SetImages(built));
        var fromFile = KoResolve(_ => Deploy(_).SetBuildRecord(record));

        Assert.Contains($"image: {image.Reference}", fromResult.Text);
        Assert.Equal(fromResult.Text, fromFile.Text);
        Assert.Equal(image.Reference, Assert.Single(fromFile.Images).Reference);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var tags = await http.GetStringAsync($"http://{_registry.Host}/v2/{image.Name[(_registry.Host.Length + 1)..]}/tags/list");
        using var json = System.Text.Json.JsonDocument.Parse(tags);
        var imageTags = json.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).Where(t => !t.StartsWith("sha256-", StringComparison.Ordinal));
        Assert.Equal(["1.2.3"], imageTags); // a rebuild would have pushed latest

        var missing = Assert.Throws<KoTaskException>(() => KoResolve(_ => Deploy(_).SetImages(new KoBuildResult([], built.Statistics))));
        Assert.Equal("KO4020", missing.Code);
        Assert.Contains("deployment.yaml:", missing.Message);
    }

    [Fact]
    public async Task A_package_that_is_not_main_fails_with_KO2003_and_the_async_twin_says_the_same()
    {
        var events = InMemorySink.Capture();
        var error = Assert.Throws<KoTaskException>(() => KoBuild(_ => Defaults(_).SetImportPath("./lib").DisablePush()));
        Assert.Equal("KO2003", error.Code);
        var debug = Assert.Single(InMemorySink.Snapshot(events), e => e.MessageTemplate.Text == "{Task} with {Settings}");
        Assert.Equal("\"Nuke.Ko\"", debug.Properties["SourceContext"].ToString());
        Assert.StartsWith("KO2003: ", error.Message);
        Assert.Contains("./lib", error.Message);

        var again = await Assert.ThrowsAsync<KoTaskException>(() => KoBuildAsync(_ => Defaults(_).SetImportPath("./lib").DisablePush()));
        Assert.Equal(error.Message, again.Message);
    }

    [Fact]
    public void An_unreachable_registry_fails_with_a_KO3_code_and_never_shows_the_configured_password()
    {
        var closed = $"127.0.0.1:{RegistryFixture.FreePort()}";
        var dockerConfig = _dir.Combine("docker");
        Directory.CreateDirectory(dockerConfig);
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"ci:{Secret}"));
        File.WriteAllText(Path.Combine(dockerConfig, "config.json"), $"{{\"auths\":{{\"{closed}\":{{\"auth\":\"{auth}\"}}}}}}");
        var events = InMemorySink.Capture();

        var error = Assert.Throws<KoTaskException>(() => KoBuild(_ => Defaults(_)
            .SetImportPath(".")
            .SetRepository($"{closed}/team")
            .SetEnvironmentVariable("DOCKER_CONFIG", dockerConfig)
            .SetEnvironmentVariable("KO_REGISTRY_RETRY_ATTEMPTS", "1")));

        Assert.Matches("^KO3[0-9]{3}: ", error.Message);
        Assert.StartsWith(error.Code + ": ", error.Message);
        Assert.Contains(closed, error.Message);
        AssertNoSecret(error, auth, events);
    }

    [Fact]
    public void A_login_to_an_unreachable_registry_fails_with_a_KO3_code_and_never_shows_the_password()
    {
        var closed = $"127.0.0.1:{RegistryFixture.FreePort()}";
        var events = InMemorySink.Capture();
        var settings = new KoLoginSettings().SetRegistry(closed).SetUsername("ci").SetPassword(Secret)
            .SetEnvironmentVariable("DOCKER_CONFIG", _dir.Combine("login"))
            .SetEnvironmentVariable("KO_REGISTRY_RETRY_ATTEMPTS", "1");

        var error = Assert.Throws<KoTaskException>(() => KoLogin(settings));

        Assert.Matches("^KO3[0-9]{3}: ", error.Message);
        AssertNoSecret(error, Secret, events);
        Assert.DoesNotContain(Secret, settings.ToString());
    }

    private static void AssertNoSecret(Exception error, string encoded, List<LogEvent> events)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            Assert.DoesNotContain(Secret, e.Message);
            Assert.DoesNotContain(encoded, e.Message);
        }

        Assert.DoesNotContain(Secret, error.ToString());
        foreach (var e in InMemorySink.Snapshot(events))
        {
            Assert.DoesNotContain(Secret, e.RenderMessage());
            Assert.DoesNotContain(Secret, string.Join(" ", e.Properties.Values));
        }
    }
}
