using Ko.Engine.Configuration;
using Ko.Engine.Pipeline;
using Ko.Engine.Publishing;

namespace Ko.Engine.Tests;

/// <summary>
/// The reference printed for a built image follows the publisher ko would have used last
/// (pkg/commands/resolver.go makePublisher chains layout, tarball, registry; MultiPublisher returns the last one's).
/// </summary>
public sealed class PrintedReferenceTests : IDisposable
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string ImportPath = "example.com/hello";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private BuildPlan Plan(string? repo, bool push = false, string? layout = null, string? tarball = null, bool local = false, IReadOnlyList<string>? tags = null, bool tagOnly = false, NamingStrategy naming = NamingStrategy.Md5)
    {
        var env = new Dictionary<string, string?> { ["HOME"] = _dir.Path };
        if (repo is not null)
        {
            env["KO_DOCKER_REPO"] = repo;
        }

        return BuildPlan.Create(new KoBuildOptions
        {
            ImportPaths = ["."],
            WorkingDirectory = _dir.Path,
            Push = push,
            Local = local,
            OciLayoutPath = layout,
            TarballPath = tarball,
            Tags = tags ?? [],
            TagOnly = tagOnly,
            Naming = naming,
            Environment = env,
        });
    }

    private static string Printed(BuildPlan plan) => ResultStage.Printed(plan, Naming.ImageName(plan.Repository, ImportPath, plan.Naming), Digest);

    [Fact]
    public void Without_KO_DOCKER_REPO_and_without_push_the_name_is_printed_with_latest_as_kos_e2e_test_expects()
    {
        // ko's .github/workflows/e2e.yaml: KO_DOCKER_REPO="" ko build --push=false ./test | grep ":latest@sha256:".
        // Its nopPublisher names the image <base>-<md5> with no repository, then :<first tag>@digest.
        var hello = "hello-" + Naming.Md5Hex(ImportPath);
        Assert.Equal($"{hello}:latest@{Digest}", Printed(Plan(repo: "")));
        Assert.Equal($"{hello}:latest@{Digest}", Printed(Plan(repo: null)));
        Assert.Equal($"{hello}:v2@{Digest}", Printed(Plan(repo: null, tags: ["v2", "v3"])));
        Assert.Equal($"{hello}:v2", Printed(Plan(repo: null, tags: ["v2"], tagOnly: true)));
    }

    [Fact]
    public void Without_push_a_given_repository_is_kept_and_the_first_tag_is_printed()
    {
        Assert.Equal($"r.example/team/hello:latest@{Digest}", Printed(Plan(repo: "r.example/team", naming: NamingStrategy.BaseImportPath)));
    }

    [Fact]
    public void An_oci_layout_alone_prints_the_layout_path_as_given_with_the_digest()
    {
        // ko pkg/publish/layout.go: LayoutPublisher.Publish returns <path>@<digest>.
        Assert.Equal($"out/layout@{Digest}", Printed(Plan(repo: null, layout: "out/layout")));
        Assert.Equal($"out/layout@{Digest}", Printed(Plan(repo: "r.example/team", layout: "out/layout", tags: ["v1"])));
    }

    [Fact]
    public void A_tarball_or_a_push_prints_the_image_name_as_the_registry_publisher_does()
    {
        // ko pkg/publish/tarball.go and default.go: name@digest, name:tag@digest for one tag other than latest;
        // the tarball publisher comes after the layout, so it is what ko prints.
        var name = $"r.example/team/hello-{Naming.Md5Hex(ImportPath)}";
        Assert.Equal($"{name}@{Digest}", Printed(Plan(repo: "r.example/team", layout: "l", tarball: "t.tar")));
        Assert.Equal($"{name}:v1@{Digest}", Printed(Plan(repo: "r.example/team", layout: "l", push: true, tags: ["v1"])));
        Assert.Equal($"{name}@{Digest}", Printed(Plan(repo: "r.example/team", push: true)));
    }

    [Fact]
    public void Local_with_KO_DOCKER_REPO_names_images_under_that_repository_and_bare_is_the_repository()
    {
        // ko pkg/commands/resolver.go: with --local the daemon's local domain is KO_DOCKER_REPO when it is set,
        // and the namer (options/publish.go bareDockerRepo) gives the repository itself for --bare.
        var bare = Plan(repo: "r.example/team", local: true, naming: NamingStrategy.Bare);
        Assert.True(bare.Local);
        Assert.False(bare.Push);
        Assert.Equal("r.example/team", Naming.ImageName(bare.Repository, ImportPath, bare.Naming));

        var unset = Plan(repo: null, local: true, naming: NamingStrategy.Bare);
        Assert.Equal("ko.local", Naming.ImageName(unset.Repository, ImportPath, unset.Naming));
    }

    [Theory]
    [InlineData("name:tag@sha256:abc", "name")]
    [InlineData("host:5000/a/b:v1@sha256:abc", "host:5000/a/b")]
    [InlineData("host:5000/a/b@sha256:abc", "host:5000/a/b")]
    [InlineData("out/layout@sha256:abc", "out/layout")]
    [InlineData("name:tag", "name")]
    public void The_repository_of_a_printed_reference_drops_tag_and_digest_but_not_a_port(string reference, string repository)
    {
        Assert.Equal(repository, ResultStage.RepositoryOf(reference));
    }
}
