using System.Text.Json;

namespace Ko.Engine.IntegrationTests;

public sealed class FlagsAndBasesTests : IDisposable
{
    private readonly TempDir _dir = new("ko-flags");
    private readonly string _src;
    private readonly Dictionary<string, string?> _env;

    // The name a layout entry of examples/hello has (index.json names entries name:tag).
    private static readonly string HelloName = $"ko.local/hello-{Ko.Engine.Publishing.Naming.Md5Hex("example.com/hello")}";

    public FlagsAndBasesTests()
    {
        _src = Repo.CopyHello(_dir.Combine("hello"));
        _env = Repo.Environment(_dir.Combine("cache"));
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Flags_take_both_equals_and_space_forms_and_tags_repeat_and_split()
    {
        var layout = _dir.Combine("tags");
        var run = await Repo.KoAsync(_env, "build", "ko://example.com/hello", "-C", _src, "--push", "false", "--platform=linux/amd64", "-t", "a,b", "-t", "c", "--oci-layout-path=" + layout, "--bare");
        Assert.True(run.ExitCode == 0, run.ToString());
        // ko (pkg/publish/layout.go): a layout without a push prints <layout path as given>@digest.
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(layout)}@sha256:[0-9a-f]{{64}}$", run.References.Single());
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        var names = index.RootElement.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("annotations").GetProperty("org.opencontainers.image.ref.name").GetString()).ToList();
        Assert.Equal(["ko.local:a", "ko.local:b", "ko.local:c"], names);
    }

    [Fact]
    public async Task A_single_non_latest_tag_is_printed_with_the_digest_and_tag_only_without()
    {
        var one = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64", "-t", "v1", "-B");
        Assert.True(one.ExitCode == 0, one.ToString());
        // Nothing written and no KO_DOCKER_REPO: ko's nopPublisher (pkg/commands/resolver.go) prints name:tag@digest
        // with the name alone (no repository).
        Assert.Matches(@"^hello:v1@sha256:[0-9a-f]{64}$", one.References.Single());
        var tagOnly = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64", "-t", "v1", "-P", "--tag-only");
        Assert.Equal("example.com/hello:v1", tagOnly.References.Single());
    }

    [Fact]
    public async Task Labels_annotations_and_user_reach_the_image()
    {
        var layout = _dir.Combine("meta");
        var run = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64", "--oci-layout-path", layout,
            "--image-label", "team=platform,tier=web", "--image-annotation", "org.opencontainers.image.source=https://example.com/hello", "--image-user", "1234:1234");
        Assert.True(run.ExitCode == 0, run.ToString());
        var config = await Tools.RunAsync("skopeo", ["inspect", "--config", $"oci:{layout}:{HelloName}:latest"]);
        using var doc = JsonDocument.Parse(config.StandardOutput);
        var c = doc.RootElement.GetProperty("config");
        Assert.Equal("platform", c.GetProperty("Labels").GetProperty("team").GetString());
        Assert.Equal("web", c.GetProperty("Labels").GetProperty("tier").GetString());
        Assert.Equal("1234:1234", c.GetProperty("User").GetString());
        var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", $"oci:{layout}:{HelloName}:latest"]);
        Assert.Contains("\"org.opencontainers.image.source\":\"https://example.com/hello\"", raw.StandardOutput);
    }

    [Fact]
    public async Task An_oci_layout_index_is_a_base_and_all_means_every_platform_it_offers()
    {
        // First make a two-platform base layout on scratch, then build hello on top of it with --platform all.
        var baseLayout = _dir.Combine("base");
        var b = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64,linux/arm/v7", "--base-image", "scratch", "--oci-layout-path", baseLayout, "--bare", "-t", "base");
        Assert.True(b.ExitCode == 0, b.ToString());

        var layout = _dir.Combine("on-base");
        var run = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "all", "--base-image", $"oci:{baseLayout}:ko.local:base", "--oci-layout-path", layout);
        Assert.True(run.ExitCode == 0, run.ToString());
        var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", $"oci:{layout}:{HelloName}:latest"]);
        using var index = JsonDocument.Parse(raw.StandardOutput);
        var manifests = index.RootElement.GetProperty("manifests").EnumerateArray().ToList();
        Assert.Equal(["amd64", "arm"], manifests.Select(m => m.GetProperty("platform").GetProperty("architecture").GetString()));
        Assert.Equal("v7", manifests[1].GetProperty("platform").GetProperty("variant").GetString());
        Assert.Equal($"oci:{baseLayout}:ko.local:base", index.RootElement.GetProperty("annotations").GetProperty("org.opencontainers.image.base.name").GetString());

        var arm = await Tools.RunAsync("skopeo", ["inspect", "--override-arch", "arm", "--override-variant", "v7", $"oci:{layout}:{HelloName}:latest"]);
        using var armDoc = JsonDocument.Parse(arm.StandardOutput);
        Assert.Equal(4, armDoc.RootElement.GetProperty("Layers").GetArrayLength()); // base kodata + base binary + kodata + binary
    }

    [Fact]
    public async Task Several_import_paths_build_concurrently_into_one_layout()
    {
        Directory.CreateDirectory(Path.Combine(_src, "cmd", "second"));
        File.WriteAllText(Path.Combine(_src, "cmd", "second", "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"second\") }\n");
        var layout = _dir.Combine("two");
        var run = await Repo.KoAsync(_env, "build", ".", "./cmd/second", "-C", _src, "--push=false", "--platform", "linux/amd64", "--oci-layout-path", layout, "-B", "-j", "2");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(2, run.References.Count);
        Assert.All(run.References, r => Assert.StartsWith(layout + "@sha256:", r));
        foreach (var name in new[] { "ko.local/hello", "ko.local/second" })
        {
            await Tools.RunAsync("skopeo", ["inspect", $"oci:{layout}:{name}:latest"]);
        }
    }

    [Fact]
    public async Task A_wildcard_builds_every_main_package_it_matches_and_nothing_else()
    {
        Directory.CreateDirectory(Path.Combine(_src, "cmd", "second"));
        File.WriteAllText(Path.Combine(_src, "cmd", "second", "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"second\") }\n");
        Directory.CreateDirectory(Path.Combine(_src, "lib"));
        File.WriteAllText(Path.Combine(_src, "lib", "lib.go"), "package lib\n\nfunc Answer() int { return 42 }\n");
        var run = await Repo.KoAsync(_env, "build", "./...", "-C", _src, "--push=false", "--platform", "linux/amd64", "-B");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["hello:latest", "second:latest"], run.References.Select(r => r.Split('@')[0]).Order(StringComparer.Ordinal));

        var none = await Repo.KoAsync(_env, "build", "./lib/...", "-C", _src, "--push=false", "--platform", "linux/amd64");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("KO2002", none.Stderr);
        Assert.Contains("no package main", none.Stderr);
    }
}
