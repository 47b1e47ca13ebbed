using Ko.Engine.Sbom;

namespace Nuke.Ko.Tests;

public sealed class PushSettingsTests
{
    [Fact]
    public void Fluent_push_settings_reach_the_engine()
    {
        var options = new KoPushSettings().SetSource("oci:out/layout").SetTo("registry.example/app").SetRepository("registry.example/team").EnableBare()
            .AddTags("v1", "latest").EnableInsecureRegistry().SetSbomAttach(KoSbomAttachment.Tag).SetWorkingDirectory("/w").SetImageRefs("/w/refs")
            .SetSignKey("/w/release.key").SetSignAnnotation("pipeline", "nuke").EnableAttestSbom().ToOptions();
        Assert.Equal("oci:out/layout", options.Source);
        Assert.Equal("registry.example/app", options.To);
        Assert.Equal("registry.example/team", options.Repository);
        Assert.True(options.Bare);
        Assert.Equal(["v1", "latest"], options.Tags);
        Assert.True(options.InsecureRegistry);
        Assert.Equal(SbomAttachment.Tag, options.SbomAttach);
        Assert.Equal("/w", options.WorkingDirectory);
        Assert.Equal("/w/refs", options.ImageRefsPath);
        Assert.Equal("/w/release.key", options.SignKey);
        Assert.Equal("nuke", options.SignAnnotations["pipeline"]);
        Assert.True(options.AttestSbom);
    }

    [Fact]
    public void A_push_without_a_source_fails_saying_which_setter_to_call()
    {
        var ex = Assert.Throws<KoTaskException>(() => new KoPushSettings().ToOptions());
        Assert.Contains("SetSource", ex.Message);
    }
}
