using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// <c>--platform all</c> on a base index whose entries lack a platform or are attestations (<c>unknown/unknown</c>),
/// against ko's platformMatcher and buildAll (pkg/build/gobuild.go).
/// </summary>
public sealed class PlatformAllTests : IDisposable
{
    private readonly TempDir _dir = new("ko-platform-all");
    private readonly string _src;
    private readonly Dictionary<string, string?> _env;

    public PlatformAllTests()
    {
        _src = Repo.CopyHello(_dir.Combine("hello"));
        _env = Repo.Environment(_dir.Combine("cache"));
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>A two-platform base layout (amd64, arm64 on scratch) whose index entries are then changed by <paramref name="change"/>.</summary>
    private async Task<string> BaseAsync(Action<JsonArray> change)
    {
        var layout = _dir.Combine("base-" + Guid.NewGuid().ToString("N")[..8]);
        var b = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--base-image", "scratch", "--oci-layout-path", layout, "--bare", "-t", "base");
        Assert.True(b.ExitCode == 0, b.ToString());

        var top = JsonNode.Parse(File.ReadAllText(Path.Combine(layout, "index.json")))!;
        var entry = top["manifests"]![0]!;
        var blob = (string name) => Path.Combine(layout, "blobs", "sha256", name["sha256:".Length..]);
        var index = JsonNode.Parse(File.ReadAllText(blob(entry["digest"]!.GetValue<string>())))!;
        change(index["manifests"]!.AsArray());
        var bytes = System.Text.Encoding.UTF8.GetBytes(index.ToJsonString());
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        File.WriteAllBytes(blob(digest), bytes);
        entry["digest"] = digest;
        entry["size"] = bytes.Length;
        File.WriteAllText(Path.Combine(layout, "index.json"), top.ToJsonString());
        return $"oci:{layout}:ko.local:base";
    }

    [Fact]
    public async Task All_refuses_a_base_entry_without_a_platform_and_explicit_platforms_skip_it_as_ko_does()
    {
        // ko: platformMatcher.matches(nil) is true only for "all"; it then builds the entry for its config's platform
        // and lists it in the index without a platform. We refuse that (README, Differences from ko).
        var baseImage = await BaseAsync(m => m[1]!.AsObject().Remove("platform"));

        var all = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "all", "--base-image", baseImage);
        Assert.Equal(1, all.ExitCode);
        Assert.Contains("Error: KO1001: --platform all: the base image", all.Stderr);
        Assert.Contains("without a platform", all.Stderr);
        Assert.Empty(all.Stdout);

        // ko: "Don't build anything without a platform field unless all": the explicit platform is built.
        var amd64 = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64", "--base-image", baseImage);
        Assert.True(amd64.ExitCode == 0, amd64.ToString());
        // And the entry without a platform is not matched by a platform that only it could have had.
        var arm64 = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "linux/arm64", "--base-image", baseImage);
        Assert.Equal(1, arm64.ExitCode);
        Assert.Contains("no matching platforms", arm64.Stderr);
    }

    [Fact]
    public async Task All_on_a_base_of_only_attestation_entries_is_no_matching_platforms_as_in_ko()
    {
        // ko: unknown/unknown entries never match, and no match is the error "no matching platforms in base image index".
        var baseImage = await BaseAsync(m =>
        {
            foreach (var e in m)
            {
                e!["platform"] = new JsonObject { ["os"] = "unknown", ["architecture"] = "unknown" };
            }
        });

        var all = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "all", "--base-image", baseImage);

        Assert.Equal(1, all.ExitCode);
        Assert.Contains("Error: KO1001: no matching platforms in the base image", all.Stderr);
        Assert.Empty(all.Stdout);
    }
}
