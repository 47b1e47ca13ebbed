using Ko.Engine.Configuration;
using Ko.Engine.Oci;
using Ko.Engine.Publishing;

namespace Ko.Engine.Tests;

public sealed class BuildPlanTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private KoBuildOptions Options(Dictionary<string, string?>? env = null) => new()
    {
        ImportPaths = ["./cmd/app"],
        WorkingDirectory = _dir.Path,
        Push = false,
        Environment = env ?? new Dictionary<string, string?> { ["HOME"] = _dir.Path },
    };

    private static KoException Fails(KoBuildOptions options) => Assert.Throws<KoException>(() => BuildPlan.Create(options));

    [Fact]
    public void Defaults()
    {
        var plan = BuildPlan.Create(Options());

        Assert.Equal("ko.local", plan.Repository);
        Assert.Equal(["latest"], plan.Tags);
        Assert.Equal("embedded:static", plan.BaseImage);
        Assert.Equal(Environment.ProcessorCount, plan.Jobs);
        Assert.Empty(plan.Platforms);
        Assert.False(plan.AllPlatforms);
        Assert.False(plan.TagOnly);
        Assert.False(plan.Push);
        Assert.Equal(NamingStrategy.Md5, plan.Naming);
        Assert.Equal(["./cmd/app"], plan.ImportPaths);
        Assert.Equal(Path.GetFullPath(_dir.Path), plan.WorkingDirectory);
        Assert.Null(plan.CreationTime);
        Assert.Null(plan.KodataCreationTime);
        Assert.Null(plan.OciLayoutPath);
        Assert.Equal(Path.Combine(_dir.Path, ".cache", "ko"), plan.CacheDirectory);
    }

    [Fact]
    public void Ko_docker_repo_is_used_when_repository_is_unset()
    {
        var plan = BuildPlan.Create(Options(new() { ["KO_DOCKER_REPO"] = "registry.example/team/" }));
        Assert.Equal("registry.example/team", plan.Repository); // trailing '/' dropped
    }

    [Fact]
    public void Repository_option_beats_ko_docker_repo()
    {
        var plan = BuildPlan.Create(Options(new() { ["KO_DOCKER_REPO"] = "from.env/x" }) with { Repository = "from.option/y" });
        Assert.Equal("from.option/y", plan.Repository);
    }

    [Fact]
    public void Ko_default_base_image_is_used_when_base_image_is_unset()
    {
        var env = new Dictionary<string, string?> { ["KO_DEFAULTBASEIMAGE"] = "scratch" };
        Assert.Equal("scratch", BuildPlan.Create(Options(env)).BaseImage);
        Assert.Equal("oci:base", BuildPlan.Create(Options(env) with { BaseImage = "oci:base" }).BaseImage);
    }

    [Fact]
    public void Ko_default_platforms_is_used_when_platforms_are_empty()
    {
        var env = new Dictionary<string, string?> { ["KO_DEFAULTPLATFORMS"] = "linux/amd64,linux/arm64" };
        Assert.Equal([new Platform("linux", "amd64"), new Platform("linux", "arm64")], BuildPlan.Create(Options(env)).Platforms);
        Assert.Equal([new Platform("linux", "arm", "v7")], BuildPlan.Create(Options(env) with { Platforms = ["linux/arm/v7"] }).Platforms);
    }

    [Fact]
    public void Ko_prefix_is_stripped_and_duplicates_merged()
    {
        var plan = BuildPlan.Create(Options() with { ImportPaths = ["ko://example.com/app/cmd/app", " example.com/app/cmd/app ", "./cmd/other", ""] });
        Assert.Equal(["example.com/app/cmd/app", "./cmd/other"], plan.ImportPaths);
    }

    [Fact]
    public void Repeated_tags_are_set_once_as_ko_does()
    {
        // ko pkg/commands/resolver.go: po.Tags = unique(po.Tags).
        var plan = BuildPlan.Create(Options() with { Tags = ["a,a", "b", "a"] });
        Assert.Equal(["a", "b"], plan.Tags);
    }

    [Fact]
    public void Comma_lists_are_split()
    {
        var plan = BuildPlan.Create(Options() with { Platforms = ["linux/amd64, linux/arm/v7", "linux/arm64"], Tags = ["v1,v2", " v3 "] });
        Assert.Equal([new Platform("linux", "amd64"), new Platform("linux", "arm", "v7"), new Platform("linux", "arm64")], plan.Platforms);
        Assert.Equal(["v1", "v2", "v3"], plan.Tags);
    }

    [Fact]
    public void All_platforms()
    {
        var plan = BuildPlan.Create(Options() with { Platforms = ["all"] });
        Assert.True(plan.AllPlatforms);
        Assert.Empty(plan.Platforms);
    }

    [Fact]
    public void All_combined_with_another_platform_is_KO1001()
    {
        Assert.Equal("KO1001", Fails(Options() with { Platforms = ["all,linux/amd64"] }).Code);
        Assert.Equal("KO1001", Fails(Options() with { Platforms = ["linux/amd64", "all"] }).Code);
    }

    [Fact]
    public void Bad_or_non_linux_platform_is_ko1001_and_os_only_linux_is_accepted()
    {
        // ko (v1.ParsePlatform) takes "linux" as every linux platform of the base.
        Assert.Equal([new Platform("linux", string.Empty)], BuildPlan.Create(Options() with { Platforms = ["linux"] }).Platforms);
        Assert.Equal("KO1001", Fails(Options() with { Platforms = ["linux/"] }).Code);
        Assert.Equal("KO1001", Fails(Options() with { Platforms = ["windows/amd64"] }).Code);
    }

    [Fact]
    public void Push_without_repository_is_KO1003_naming_ko_docker_repo()
    {
        var ex = Fails(Options() with { Push = true });
        Assert.Equal("KO1003", ex.Code);
        Assert.Contains("KO_DOCKER_REPO", ex.Message);
    }

    [Fact]
    public void Push_with_repository_is_fine()
    {
        var plan = BuildPlan.Create(Options(new() { ["KO_DOCKER_REPO"] = "reg.example/x" }) with { Push = true });
        Assert.True(plan.Push);
        Assert.Equal("reg.example/x", plan.Repository);
    }

    [Fact]
    public void No_import_path_is_KO1004()
    {
        Assert.Equal("KO1004", Fails(Options() with { ImportPaths = [] }).Code);
        Assert.Equal("KO1004", Fails(Options() with { ImportPaths = ["  "] }).Code);
    }

    [Fact]
    public void Missing_working_directory_is_KO1004()
    {
        Assert.Equal("KO1004", Fails(Options() with { WorkingDirectory = _dir.Combine("does-not-exist") }).Code);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.5")]
    public void Bad_source_date_epoch_is_KO1004(string value)
    {
        var ex = Fails(Options(new() { ["SOURCE_DATE_EPOCH"] = value }));
        Assert.Equal("KO1004", ex.Code);
        Assert.Contains("SOURCE_DATE_EPOCH", ex.Message);
    }

    [Fact]
    public void Source_date_epoch_sets_the_creation_time_and_not_the_kodata_time()
    {
        // ko pkg/commands/resolver.go: kodata is dated by KO_DATA_DATE_EPOCH alone.
        var plan = BuildPlan.Create(Options(new() { ["SOURCE_DATE_EPOCH"] = "1700000000" }));
        var expected = new DateTimeOffset(2023, 11, 14, 22, 13, 20, TimeSpan.Zero);
        Assert.Equal(expected, plan.CreationTime);
        Assert.Null(plan.KodataCreationTime);
    }

    [Fact]
    public void Ko_data_date_epoch_overrides_kodata_time_only()
    {
        var plan = BuildPlan.Create(Options(new() { ["SOURCE_DATE_EPOCH"] = "1700000000", ["KO_DATA_DATE_EPOCH"] = "86400" }));
        Assert.Equal(new DateTimeOffset(2023, 11, 14, 22, 13, 20, TimeSpan.Zero), plan.CreationTime);
        Assert.Equal(new DateTimeOffset(1970, 1, 2, 0, 0, 0, TimeSpan.Zero), plan.KodataCreationTime);
    }

    [Theory]
    [InlineData("-bad")]
    [InlineData(".bad")]
    [InlineData("has space")]
    [InlineData("a:b")]
    public void Invalid_tag_is_KO1004(string tag)
    {
        var ex = Fails(Options() with { Tags = [tag] });
        Assert.Equal("KO1004", ex.Code);
        Assert.Contains(tag, ex.Message);
    }

    [Fact]
    public void Tag_of_128_characters_is_valid_and_129_is_not()
    {
        var ok = "v" + new string('1', 127);
        Assert.Equal([ok], BuildPlan.Create(Options() with { Tags = [ok] }).Tags);
        Assert.Equal("KO1004", Fails(Options() with { Tags = [ok + "1"] }).Code);
    }

    [Fact]
    public void Tag_only_needs_exactly_one_tag()
    {
        Assert.Equal("KO1004", Fails(Options() with { TagOnly = true, Tags = ["v1", "v2"] }).Code);
        Assert.True(BuildPlan.Create(Options() with { TagOnly = true, Tags = ["v1"] }).TagOnly);
    }

    [Fact]
    public void Kocache_sets_cache_directory_and_option_beats_it()
    {
        var cache = _dir.Combine("kocache");
        Assert.Equal(cache, BuildPlan.Create(Options(new() { ["KOCACHE"] = cache })).CacheDirectory);
        var explicitCache = _dir.Combine("explicit");
        Assert.Equal(explicitCache, BuildPlan.Create(Options(new() { ["KOCACHE"] = cache }) with { CacheDirectory = explicitCache }).CacheDirectory);
    }

    [Fact]
    public void Relative_paths_resolve_against_working_directory()
    {
        var plan = BuildPlan.Create(Options(new() { ["KOCACHE"] = "rel-cache" }) with
        {
            OciLayoutPath = "out/layout",
            OciArchivePath = "out/image.tar",
            TarballPath = "docker.tar",
            ImageRefsPath = "../refs.txt",
        });

        Assert.Equal(Path.Combine(_dir.Path, "out", "layout"), plan.OciLayoutPath);
        Assert.Equal(Path.Combine(_dir.Path, "out", "image.tar"), plan.OciArchivePath);
        Assert.Equal(Path.Combine(_dir.Path, "docker.tar"), plan.TarballPath);
        Assert.Equal(Path.Combine(Path.GetDirectoryName(_dir.Path)!, "refs.txt"), plan.ImageRefsPath);
        Assert.Equal(Path.Combine(_dir.Path, "rel-cache"), plan.CacheDirectory);
    }

    [Fact]
    public void Ldflags_become_one_argument_after_build_flags()
    {
        var plan = BuildPlan.Create(Options() with { BuildFlags = ["-trimpath"], Ldflags = ["-s", "-X main.v=1"] });
        Assert.Equal(["-trimpath", "-ldflags=-s -X main.v=1"], plan.BuildFlags);
    }

    [Fact]
    public void Explicit_jobs_are_kept()
    {
        Assert.Equal(3, BuildPlan.Create(Options() with { Jobs = 3 }).Jobs);
    }

    [Fact]
    public void Environment_is_the_one_given()
    {
        var env = new Dictionary<string, string?> { ["ONLY"] = "this" };
        var plan = BuildPlan.Create(Options(env));
        Assert.Same(env, plan.Environment);
    }
}
