using Cake.Core;
using Cake.Core.Diagnostics;
using Cake.Core.IO;

namespace Cake.Ko.Tests;

/// <summary>KoResolve (and its siblings) take a directory, a glob pattern and a plain string, not only FilePath.</summary>
public sealed class ManifestPathTests : IDisposable
{
    private const string Digest = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private readonly TempDir _dir = new("cake-paths");
    private readonly FakeCakeContext _context;

    // What an earlier KoBuild returned: resolve takes the images from it and builds nothing.
    private readonly KoResolveSettings _settings = new()
    {
        Images = new KoBuildResult([new KoImage("example.com/hello", "reg.example/hello", $"reg.example/hello@{Digest}", Digest, "application/vnd.oci.image.manifest.v1+json", ["linux/amd64"], ["latest"])]),
    };

    public ManifestPathTests()
    {
        _dir.WriteFile("k8s/a.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - image: ko://example.com/hello\n");
        _dir.WriteFile("k8s/b.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n  containers:\n  - image: ko://example.com/hello\n");
        _dir.WriteFile("k8s/notes.txt", "not yaml: ko://example.com/other\n");
        _context = new FakeCakeContext(new FakeCakeEnvironment(_dir.Path, new Dictionary<string, string> { ["PATH"] = Environment.GetEnvironmentVariable("PATH")! }), new FakeCakeLog(Verbosity.Normal));
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_directory_a_glob_and_a_string_pattern_resolve_the_same_two_documents()
    {
        var viaDirectory = _context.KoResolve(new DirectoryPath(_dir.Combine("k8s")), _settings);
        var viaString = _context.KoResolve("k8s/*.yaml", _settings);
        var viaGlob = _context.KoResolve(new GlobPattern("./k8s/**/*.yaml"), _settings);

        Assert.Equal(2, CountOf($"image: reg.example/hello@{Digest}", viaString));
        Assert.Contains("name: a", viaString, StringComparison.Ordinal);
        Assert.Contains("name: b", viaString, StringComparison.Ordinal);
        Assert.Equal(viaString, viaGlob);
        Assert.Equal(viaString, viaDirectory);
        Assert.DoesNotContain("ko://", viaString, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plain_string_is_a_path_and_a_pattern_that_matches_nothing_is_KO4002()
    {
        var one = _context.KoResolve("k8s/a.yaml", _settings);
        Assert.Equal(1, CountOf(Digest, one));

        var e = Assert.Throws<CakeException>(() => _context.KoResolve("k8s/*.yml", _settings));
        Assert.StartsWith("KO4002: the pattern 'k8s/*.yml' matches no file", e.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<CakeException>(() => _context.KoDelete(new DirectoryPath(_dir.Combine("absent")), new KoDeleteSettings()));
        Assert.StartsWith("KO4002: ", missing.Message, StringComparison.Ordinal);
    }

    private static int CountOf(string what, string text) => (text.Length - text.Replace(what, string.Empty, StringComparison.Ordinal).Length) / what.Length;
}
