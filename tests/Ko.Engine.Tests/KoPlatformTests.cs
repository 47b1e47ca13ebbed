using Ko.Engine.Go;
using Ko.Engine.Oci;
using Ko.Engine.Sources;

namespace Ko.Engine.Tests;

/// <summary>Platform choice as ko's platformMatcher and buildAll (pkg/build/gobuild.go) make it.</summary>
public sealed class KoPlatformTests
{
    private static readonly Platform[] Offered =
    [
        new("linux", "amd64"), new("linux", "arm", "v6"), new("linux", "arm", "v7"), new("linux", "arm64", "v8"), new("linux", "s390x"),
    ];

    private static IReadOnlyList<Platform> Choose(params string[] wanted) =>
        PlatformSelector.Choose(wanted.Select(Platform.Parse).ToList(), all: false, Offered, multiPlatform: true, "base");

    [Fact]
    public void Os_only_takes_every_platform_of_that_os_in_the_base_order()
    {
        Assert.Equal(Offered, Choose("linux"));
    }

    [Fact]
    public void Arm_without_a_variant_takes_every_arm_variant()
    {
        Assert.Equal([new Platform("linux", "arm", "v6"), new Platform("linux", "arm", "v7")], Choose("linux/arm"));
    }

    [Fact]
    public void Several_wanted_platforms_come_out_in_the_base_order()
    {
        Assert.Equal([new Platform("linux", "amd64"), new Platform("linux", "arm64", "v8")], Choose("linux/arm64", "linux/amd64"));
    }

    [Fact]
    public void A_variant_the_base_lacks_is_accepted_then_matches_nothing_no_matching_platforms()
    {
        // linux/arm64/v4 parses (ko accepts any variant) but no base entry has it: ko's "no matching platforms".
        var ex = Assert.Throws<KoException>(() => Choose("linux/arm64/v4"));

        Assert.Equal(KoErrorCodes.InvalidPlatform, ex.Code);
        Assert.Contains("no matching platforms", ex.Message);
        Assert.Contains("linux/arm64/v4", ex.Message);
    }

    [Fact]
    public void All_on_a_base_with_no_platform_is_no_matching_platforms_not_an_empty_index()
    {
        var ex = Assert.Throws<KoException>(() => PlatformSelector.Choose([], all: true, [], multiPlatform: true, "base"));

        Assert.Contains("no matching platforms", ex.Message);
        Assert.Equal(Offered, PlatformSelector.Choose([], all: true, Offered, multiPlatform: true, "base"));
    }

    [Theory]
    [InlineData("v5", "5")]
    [InlineData("v7", "7")]
    [InlineData("v8", "7")] // ko getGoarm: Go has no GOARM=8
    [InlineData("v4", null)]
    [InlineData("x7", null)]
    public void Arm_variant_gives_goarm_as_ko(string variant, string? goarm)
    {
        var env = GoTool.PlatformEnvironment(new Platform("linux", "arm", variant));

        Assert.Equal(goarm, env.GetValueOrDefault("GOARM"));
    }

    [Fact]
    public void Windows_os_version_x_y_z_matches_x_y_z_n_and_nothing_else()
    {
        var wanted = Platform.Parse("windows/amd64:10.0.17763");

        Assert.True(wanted.Accepts(new Platform("windows", "amd64") { OsVersion = "10.0.17763.1234" }));
        Assert.False(wanted.Accepts(new Platform("windows", "amd64") { OsVersion = "10.0.20348.1" }));
        Assert.False(Platform.Parse("linux/amd64:1.2.3").Accepts(new Platform("linux", "amd64") { OsVersion = "1.2.3.4" }));
    }

    [Fact]
    public void An_os_version_in_an_index_entry_is_read_and_written_back()
    {
        var json = """{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:13bc65fa95c573c9418b90a4d337ee592f6172b83ce3bbf15603e4e9619af401","size":1,"platform":{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1234"}}""";
        using var doc = System.Text.Json.JsonDocument.Parse(json);

        var d = Descriptor.Read(doc.RootElement, "test");

        Assert.Equal("10.0.17763.1234", d.Platform!.OsVersion);
    }

    [Fact]
    public async Task A_base_index_that_lists_a_nested_index_is_an_error_not_an_empty_build()
    {
        // ko pkg/build/gobuild.go buildAll: an entry that is not an image manifest is "unexpected mediaType".
        using var dir = new TempDir();
        var nested = System.Text.Encoding.UTF8.GetBytes("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}""");
        var nestedDigest = Digest.Sha256(nested);
        var outer = System.Text.Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{{nestedDigest}}","size":{{nested.Length}}}]}""");
        var outerDigest = Digest.Sha256(outer);
        dir.WriteFile("layout/oci-layout", """{"imageLayoutVersion":"1.0.0"}""");
        dir.WriteFile("layout/blobs/sha256/" + nestedDigest.Hex, System.Text.Encoding.UTF8.GetString(nested));
        dir.WriteFile("layout/blobs/sha256/" + outerDigest.Hex, System.Text.Encoding.UTF8.GetString(outer));
        dir.WriteFile("layout/index.json", $$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{{outerDigest}}","size":{{outer.Length}}}]}""");

        var ex = await Assert.ThrowsAsync<KoException>(() => Ko.Engine.Sources.OciLayoutBase.OpenAsync("oci:layout", dir.Path, CancellationToken.None));

        Assert.Equal(KoErrorCodes.InvalidBaseImage, ex.Code);
        Assert.Contains(nestedDigest.ToString(), ex.Message);
        Assert.Contains("nested index", ex.Message);
    }
}
