using Ko.Engine.Publishing;

namespace Ko.Engine.Tests;

public class NamingTests
{
    private const string ImportPath = "github.com/ko-build/ko/cmd/ko";

    // Test vector computed outside the code under test:
    //   $ printf %s github.com/ko-build/ko/cmd/ko | md5sum
    //   cb14e01934b3ef1255c33a1cb9608dfb  -
    private const string ImportPathMd5 = "cb14e01934b3ef1255c33a1cb9608dfb";

    private const string Digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void Default_name_is_base_name_dash_md_5_of_import_path()
    {
        Assert.Equal("ko.local/ko-" + ImportPathMd5, Naming.ImageName("ko.local", ImportPath, NamingStrategy.Md5));
        Assert.Equal(ImportPathMd5, Naming.Md5Hex(ImportPath));
    }

    [Fact]
    public void Md_5_is_the_default_strategy()
    {
        Assert.Equal(NamingStrategy.Md5, default(NamingStrategy));
        Assert.Equal(NamingStrategy.Md5, new Ko.Engine.Configuration.KoBuildOptions().Naming);
    }

    [Fact]
    public void Upper_case_import_paths_are_lower_cased()
    {
        var upper = "GitHub.com/Ko-Build/KO/cmd/KO";
        Assert.Equal("reg.example/ko-" + ImportPathMd5, Naming.ImageName("reg.example", upper, NamingStrategy.Md5));
        Assert.Equal("reg.example/" + ImportPath, Naming.ImageName("reg.example", upper, NamingStrategy.PreserveImportPath));
        Assert.Equal("reg.example/ko", Naming.ImageName("reg.example", upper, NamingStrategy.BaseImportPath));
    }

    [Fact]
    public void Other_strategies()
    {
        Assert.Equal("reg.example/team", Naming.ImageName("reg.example/team", ImportPath, NamingStrategy.Bare));
        Assert.Equal("reg.example/team/" + ImportPath, Naming.ImageName("reg.example/team", ImportPath, NamingStrategy.PreserveImportPath));
        Assert.Equal("reg.example/team/ko", Naming.ImageName("reg.example/team", ImportPath, NamingStrategy.BaseImportPath));
    }

    [Fact]
    public void Printed_reference_forms()
    {
        const string Name = "ko.local/hello-abc";
        Assert.Equal($"{Name}@{Digest}", Naming.PrintedReference(Name, ["latest"], Digest, tagOnly: false));
        Assert.Equal($"{Name}:v1@{Digest}", Naming.PrintedReference(Name, ["v1"], Digest, tagOnly: false));
        Assert.Equal($"{Name}@{Digest}", Naming.PrintedReference(Name, ["v1", "v2"], Digest, tagOnly: false));
        Assert.Equal($"{Name}@{Digest}", Naming.PrintedReference(Name, ["latest", "v1"], Digest, tagOnly: false));
        Assert.Equal($"{Name}:v1", Naming.PrintedReference(Name, ["v1"], Digest, tagOnly: true));
    }

    [Theory]
    // ko pkg/commands/options/publish.go MakeNamer: -P wins over -B, which wins over --bare.
    [InlineData(true, true, true, NamingStrategy.PreserveImportPath)]
    [InlineData(true, false, true, NamingStrategy.PreserveImportPath)]
    [InlineData(false, true, true, NamingStrategy.BaseImportPath)]
    [InlineData(false, false, true, NamingStrategy.Bare)]
    [InlineData(false, false, false, NamingStrategy.Md5)]
    public void One_naming_rule_picks_preserve_then_base_then_bare(bool preserve, bool baseNames, bool bare, NamingStrategy expected)
    {
        Assert.Equal(expected, Ko.Engine.Configuration.NamingRule.Choose(preserve, baseNames, bare));
    }

    [Fact]
    public void Overridden_switches_are_named_for_a_warning_and_a_single_switch_gives_none()
    {
        var names = ("-P", "-B", "--bare");
        Assert.Equal("-B and --bare were both given; images are named by -B (as ko: -P, then -B, then --bare), and --bare is ignored.", Ko.Engine.Configuration.NamingRule.Overridden(false, true, true, names));
        Assert.Null(Ko.Engine.Configuration.NamingRule.Overridden(false, false, true, names));
    }
}
