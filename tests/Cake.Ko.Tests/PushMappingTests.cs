using Ko.Engine.Configuration;

namespace Cake.Ko.Tests;

public sealed class PushMappingTests
{
    [Fact]
    public void Every_push_setting_reaches_the_engine_and_the_source_path_starts_at_the_cake_working_directory()
    {
        var env = new FakeCakeEnvironment("/cake/work", new Dictionary<string, string> { ["KO_DOCKER_REPO"] = "from-cake-context" });
        var settings = new KoPushSettings
        {
            To = "registry.example/team/app",
            Repository = "registry.example/other",
            Bare = true,
            Tags = { "1.2.3" },
            InsecureRegistry = true,
            SbomAttach = KoSbomAttachment.Tag,
            ImageRefsPath = "out/refs.txt",
            SignKey = "keys/release.key",
            SignAnnotations = { ["pipeline"] = "cake" },
            AttestSbom = true,
        };
        settings.EnvironmentVariables["DOCKER_CONFIG"] = "/cfg";
        KoPushOptions options = KoSettingsMapper.ToPushOptions("oci:artifacts/layout", settings, env, "/cake/work");
        Assert.Equal("oci:artifacts/layout", options.Source);
        Assert.Equal("registry.example/team/app", options.To);
        Assert.Equal("registry.example/other", options.Repository);
        Assert.True(options.Bare);
        Assert.Equal(["1.2.3"], options.Tags);
        Assert.True(options.InsecureRegistry);
        Assert.Equal(global::Ko.Engine.Sbom.SbomAttachment.Tag, options.SbomAttach);
        Assert.Equal("/cake/work/out/refs.txt", options.ImageRefsPath);
        Assert.Equal("/cake/work/keys/release.key", options.SignKey);
        Assert.Equal("cake", options.SignAnnotations["pipeline"]);
        Assert.True(options.AttestSbom);
        Assert.Equal("/cake/work", options.WorkingDirectory);
        Assert.Equal("/cfg", options.Environment!["DOCKER_CONFIG"]);
        Assert.Equal("from-cake-context", options.Environment["KO_DOCKER_REPO"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void An_empty_source_is_refused_with_what_to_write(string source)
    {
        var env = new FakeCakeEnvironment("/cake/work", new Dictionary<string, string>());
        var ex = Assert.Throws<ArgumentException>(() => KoSettingsMapper.ToPushOptions(source, new KoPushSettings(), env, "/cake/work"));
        Assert.Contains("oci:", ex.Message);
    }
}
