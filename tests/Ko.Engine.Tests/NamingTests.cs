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
    public void DefaultNameIsBaseNameDashMd5OfImportPath()
    {
        Assert.Equal("ko.local/ko-" + ImportPathMd5, Naming.ImageName("ko.local", ImportPath, NamingStrategy.Md5));
        Assert.Equal(ImportPathMd5, Naming.Md5Hex(ImportPath));
    }

    [Fact]
    public void Md5IsTheDefaultStrategy()
    {
        Assert.Equal(NamingStrategy.Md5, default(NamingStrategy));
        Assert.Equal(NamingStrategy.Md5, new Ko.Engine.Configuration.KoBuildOptions().Naming);
    }

    [Fact]
    public void UpperCaseImportPathsAreLowerCased()
    {
        var upper = "GitHub.com/Ko-Build/KO/cmd/KO";
        Assert.Equal("reg.example/ko-" + ImportPathMd5, Naming.ImageName("reg.example", upper, NamingStrategy.Md5));
        Assert.Equal("reg.example/" + ImportPath, Naming.ImageName("reg.example", upper, NamingStrategy.PreserveImportPath));
        Assert.Equal("reg.example/ko", Naming.ImageName("reg.example", upper, NamingStrategy.BaseImportPath));
    }

    [Fact]
    public void OtherStrategies()
    {
        Assert.Equal("reg.example/team", Naming.ImageName("reg.example/team", ImportPath, NamingStrategy.Bare));
        Assert.Equal("reg.example/team/" + ImportPath, Naming.ImageName("reg.example/team", ImportPath, NamingStrategy.PreserveImportPath));
        Assert.Equal("reg.example/team/ko", Naming.ImageName("reg.example/team", ImportPath, NamingStrategy.BaseImportPath));
    }

    [Fact]
    public void PrintedReferenceForms()
    {
        const string Name = "ko.local/hello-abc";
        Assert.Equal($"{Name}@{Digest}", Naming.PrintedReference(Name, ["latest"], Digest, tagOnly: false));
        Assert.Equal($"{Name}:v1@{Digest}", Naming.PrintedReference(Name, ["v1"], Digest, tagOnly: false));
        Assert.Equal($"{Name}@{Digest}", Naming.PrintedReference(Name, ["v1", "v2"], Digest, tagOnly: false));
        Assert.Equal($"{Name}@{Digest}", Naming.PrintedReference(Name, ["latest", "v1"], Digest, tagOnly: false));
        Assert.Equal($"{Name}:v1", Naming.PrintedReference(Name, ["v1"], Digest, tagOnly: true));
    }
}
