namespace Ko.Engine.IntegrationTests;

/// <summary>What <c>dotnet ko build</c> prints on stdout, checked against ko's own expectations.</summary>
public sealed class PrintedReferenceCliTests : IDisposable
{
    private readonly TempDir _dir = new("ko-printed");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task An_empty_KO_DOCKER_REPO_and_push_false_prints_latest_at_digest_as_kos_e2e_test_greps()
    {
        // ko .github/workflows/e2e.yaml: KO_DOCKER_REPO="" go run ./ build --push=false ./test | grep ":latest@sha256:"
        var src = Repo.CopyHello(_dir.Combine("hello"));
        var env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = string.Empty });

        var run = await Repo.KoAsync(env, "build", "--push=false", "--platform", "linux/amd64", "-C", src, ".");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches($"^hello-{Publishing.Naming.Md5Hex("example.com/hello")}:latest@sha256:[0-9a-f]{{64}}$", run.References.Single());
    }

    [Fact]
    public async Task An_oci_layout_without_push_prints_the_layout_path_as_given()
    {
        // ko pkg/publish/layout.go: <layout path>@<digest>, the path exactly as on the command line.
        var src = Repo.CopyHello(_dir.Combine("hello"));
        var env = Repo.Environment(_dir.Combine("cache"));

        var run = await Repo.KoAsync(env, "build", "--push=false", "--platform", "linux/amd64", "-C", src, "--oci-layout-path", "out/layout", ".");

        Assert.True(run.ExitCode == 0, run.ToString());
        var reference = run.References.Single();
        Assert.Matches("^out/layout@sha256:[0-9a-f]{64}$", reference);
        // The digest names the image in the layout written under the working directory.
        Assert.True(File.Exists(Path.Combine(src, "out", "layout", "blobs", "sha256", reference[(reference.IndexOf(':') + 1)..])));
    }
}

/// <summary>The CLI's -v names the source of embedded:static's time zones; without -v it stays quiet.</summary>
public sealed class ZoneInfoVerboseTests
{
    [Fact]
    public async Task Verbose_build_logs_where_the_time_zones_came_from()
    {
        using var dir = new TempDir("ko-tz-verbose");
        var src = Repo.CopyHello(dir.Combine("hello"));
        var env = Repo.Environment(dir.Combine("cache"));

        var verbose = await Repo.KoAsync(env, "build", "-v", "--push=false", "--platform", "linux/amd64", "-C", src, ".");
        var quiet = await Repo.KoAsync(env, "build", "--push=false", "--platform", "linux/amd64", "-C", src, ".");

        Assert.True(verbose.ExitCode == 0, verbose.ToString());
        var expected = File.Exists("/usr/share/zoneinfo/UTC") ? "come from the build machine's tzdata: /usr/share/zoneinfo" : "come from Go's zoneinfo.zip: ";
        Assert.Contains("embedded:static time zones at /usr/share/zoneinfo " + expected, verbose.Stderr);
        Assert.DoesNotContain("time zones at", quiet.Stderr);
    }
}
