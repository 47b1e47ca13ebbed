using System.Text;
using System.Text.Json;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// <c>dotnet ko push</c> from one registry to another, proved on the wire: two recording fronts of the real
/// docker-registry, each wanting its own Basic credentials, and a third host the source redirects its blobs to.
/// Each origin gets its own secret, and no other.
/// </summary>
public sealed class PushWireTests : IClassFixture<RegistryFixture>, IDisposable
{
    private const string SourceSecret = "Source-Pw-51c0e7";
    private const string TargetSecret = "Target-Pw-9d24ab";

    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("ko-pushwire");

    public PushWireTests(RegistryFixture registry) => _registry = registry;

    public void Dispose() => _dir.Dispose();

    private static string Basic(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    /// <summary>A front that answers 401 to anything without exactly <paramref name="basic"/>.</summary>
    private FaultProxy Front(string basic, Func<FaultRequest, FaultAction> authenticated) =>
        new(_registry.Port, r => r.Headers.TryGetValue("Authorization", out var a) && a == "Basic " + basic
            ? authenticated(r)
            : FaultAction.Respond(401, ("WWW-Authenticate", "Basic realm=\"front\"")));

    private static void AssertNeverSent(FaultProxy host, params string[] secrets)
    {
        foreach (var record in host.Records)
        {
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, record.Wire, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Pushing_from_one_registry_to_another_sends_each_registry_only_its_own_credentials_and_a_blob_host_none()
    {
        var src = Repo.CopyHello(_dir.Combine("hello"));
        var seed = await Repo.KoAsync(Repo.Environment(_dir.Combine("cache-seed"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = $"{_registry.Host}/wire-seed" }), "build", "-C", src, "--platform", "linux/amd64,linux/arm64", "--bare", ".");
        Assert.True(seed.ExitCode == 0, seed.ToString());
        var digest = Assert.Single(seed.References).Split('@')[1];

        var sourceBasic = Basic("source-user", SourceSecret);
        var targetBasic = Basic("target-user", TargetSecret);
        await using var storage = new FaultProxy(_registry.Port, _ => FaultAction.Forward);
        await using var source = Front(sourceBasic, r => r.Method == "GET" && r.Path.Contains("/blobs/", StringComparison.Ordinal)
            ? FaultAction.Respond(307, ("Location", $"http://{storage.Host}{r.Path}"))
            : FaultAction.Forward);
        await using var target = Front(targetBasic, _ => FaultAction.Forward);

        var docker = _dir.Combine("docker");
        Directory.CreateDirectory(docker);
        await File.WriteAllTextAsync(Path.Combine(docker, "config.json"), JsonSerializer.Serialize(new
        {
            auths = new Dictionary<string, object> { [source.Host] = new { auth = sourceBasic }, [target.Host] = new { auth = targetBasic } },
        }));
        var env = Repo.Environment(_dir.Combine("cache-push"), new Dictionary<string, string?>
        {
            ["DOCKER_CONFIG"] = docker,
            ["REGISTRY_AUTH_FILE"] = null,
            ["XDG_RUNTIME_DIR"] = null,
        });

        var push = await Repo.KoAsync(env, "push", $"docker://{source.Host}/wire-seed@{digest}", "--to", $"{target.Host}/wire-copy", "-t", "v1");
        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Equal([$"{target.Host}/wire-copy:v1@{digest}"], push.References);

        Assert.Contains($"blob upload(s) for {target.Host}/wire-copy", push.Stderr, StringComparison.Ordinal);

        // The bytes went through: the storage host served blobs, and the target received uploads.
        Assert.Contains(storage.Records, r => r.Method == "GET" && r.Path.Contains("/blobs/", StringComparison.Ordinal) && r.Status == 200);
        Assert.Contains(target.Records, r => r.Method == "PUT" && r.Path.Contains("/manifests/v1", StringComparison.Ordinal) && r.Status == 201);

        // On the wire: each front received its own secret and never the other's; the storage host received none.
        Assert.Contains(source.Records, r => r.Headers.TryGetValue("Authorization", out var a) && a == "Basic " + sourceBasic);
        Assert.Contains(target.Records, r => r.Headers.TryGetValue("Authorization", out var a) && a == "Basic " + targetBasic);
        AssertNeverSent(source, targetBasic, TargetSecret);
        AssertNeverSent(target, sourceBasic, SourceSecret);
        Assert.All(storage.Records, r => Assert.False(r.HadAuthorization, $"{storage.Host} received Authorization:\n{r.Wire}"));
        foreach (var output in new[] { push.Stdout, push.Stderr })
        {
            Assert.DoesNotContain(SourceSecret, output, StringComparison.Ordinal);
            Assert.DoesNotContain(TargetSecret, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Pushing_from_a_registry_whose_credentials_are_missing_is_KO3004_naming_that_registry_and_uploads_nothing()
    {
        var src = Repo.CopyHello(_dir.Combine("hello2"));
        var seed = await Repo.KoAsync(Repo.Environment(_dir.Combine("cache-seed2"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = $"{_registry.Host}/wire-seed2" }), "build", "-C", src, "--platform", "linux/amd64", "--bare", ".");
        Assert.True(seed.ExitCode == 0, seed.ToString());
        var digest = Assert.Single(seed.References).Split('@')[1];

        var targetBasic = Basic("target-user", TargetSecret);
        await using var source = Front(Basic("source-user", SourceSecret), _ => FaultAction.Forward);
        await using var target = Front(targetBasic, _ => FaultAction.Forward);
        var docker = _dir.Combine("docker2");
        Directory.CreateDirectory(docker);
        await File.WriteAllTextAsync(Path.Combine(docker, "config.json"), JsonSerializer.Serialize(new
        {
            auths = new Dictionary<string, object> { [target.Host] = new { auth = targetBasic } },
        }));
        var env = Repo.Environment(_dir.Combine("cache-push2"), new Dictionary<string, string?>
        {
            ["DOCKER_CONFIG"] = docker,
            ["REGISTRY_AUTH_FILE"] = null,
            ["XDG_RUNTIME_DIR"] = null,
            ["KO_REGISTRY_RETRY_ATTEMPTS"] = "1",
        });

        var push = await Repo.KoAsync(env, "push", $"docker://{source.Host}/wire-seed2@{digest}", "--to", $"{target.Host}/wire-copy2");
        Assert.True(push.ExitCode == 1, push.ToString());
        Assert.Contains("KO3004", push.Stderr, StringComparison.Ordinal);
        Assert.Contains(source.Host, push.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(target.Records, r => r.Method is "PUT" or "POST" or "PATCH");
        AssertNeverSent(source, targetBasic, TargetSecret);
        Assert.DoesNotContain(TargetSecret, push.Stderr, StringComparison.Ordinal);
    }
}
