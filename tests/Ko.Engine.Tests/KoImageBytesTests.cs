using Ko.Engine.Images;
using Ko.Engine.Layers;

namespace Ko.Engine.Tests;

/// <summary>The bytes ko writes into an image's two layers and its capabilities xattr, stated from ko's source.</summary>
public sealed class KoImageBytesTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Allowed_root_override_that_does_not_contain_kodata_is_ignored_so_a_link_cannot_escape_into_it()
    {
        // ko pkg/build/gobuild.go resolveKodataAllowedRoot: KO_DATA_PATH_ALLOWED_ROOT is used only when it is an
        // ancestor of (or equal to) the kodata directory; otherwise the boundary stays the kodata directory.
        _dir.WriteFile("secrets/key.txt", "secret");
        _dir.WriteFile("app/pkg/kodata/ok.txt", "ok");
        var link = _dir.Combine("app", "pkg", "kodata", "key.txt");
        File.CreateSymbolicLink(link, _dir.Combine("secrets", "key.txt"));
        var pkg = _dir.Combine("app", "pkg");
        var env = new Dictionary<string, string?> { ["KO_DATA_PATH_ALLOWED_ROOT"] = _dir.Combine("secrets") };

        var root = AppLayers.KodataAllowedRoot(pkg, env);
        var ex = Assert.Throws<KoException>(() => AppLayers.KodataEntries(Path.Combine(pkg, "kodata"), root));

        Assert.Equal(Path.Combine(pkg, "kodata"), root);
        Assert.Equal("KO2005", ex.Code);
        Assert.Contains(link, ex.Message);
    }

    [Fact]
    public void Allowed_root_override_that_contains_kodata_widens_the_boundary()
    {
        _dir.WriteFile("app/shared/license.txt", "MIT");
        _dir.WriteFile("app/pkg/kodata/ok.txt", "ok");
        File.CreateSymbolicLink(_dir.Combine("app", "pkg", "kodata", "license.txt"), _dir.Combine("app", "shared", "license.txt"));
        var pkg = _dir.Combine("app", "pkg");
        var env = new Dictionary<string, string?> { ["KO_DATA_PATH_ALLOWED_ROOT"] = _dir.Combine("app") };

        var entries = AppLayers.KodataEntries(Path.Combine(pkg, "kodata"), AppLayers.KodataAllowedRoot(pkg, env));

        Assert.Equal(["license.txt", "ok.txt"], entries.Select(e => e.RelativePath));
    }

    [Theory]
    // ko pkg/caps/caps.go NewFileCaps: a cap_from_text clause edits the permitted (p), inheritable (i) and effective
    // (e) sets; '=' with no names means all; the effective flag is set when any effective bit is.
    [InlineData("cap_net_raw=p", 1UL << 13, 0UL, false)]
    [InlineData("chown=pe", 1UL, 0UL, true)]
    [InlineData("net_bind_service,chown+ep", (1UL << 10) | 1UL, 0UL, true)]
    [InlineData("10", 1UL << 10, 0UL, false)]
    [InlineData("63", 1UL << 63, 0UL, false)]
    public void Capability_clauses_set_the_sets_ko_sets(string term, ulong permitted, ulong inheritable, bool effective)
    {
        var caps = FileCapabilities.Parse([term], "test");

        Assert.Equal(permitted, caps.Permitted);
        Assert.Equal(inheritable, caps.Inheritable);
        Assert.Equal(effective, caps.Effective);
    }

    [Fact]
    public void Equals_ie_means_all_known_capabilities_inheritable_and_effective()
    {
        var caps = FileCapabilities.Parse(["=ie"], "test");

        Assert.Equal(0UL, caps.Permitted);
        Assert.Equal((1UL << 41) - 1, caps.Inheritable);
        Assert.True(caps.Effective);
        Assert.Equal(Convert.FromHexString("01000002" + "00000000" + "FFFFFFFF" + "00000000" + "FF010000"), caps.XattrBytes());
    }

    [Fact]
    public void A_later_minus_clause_removes_and_an_empty_result_writes_no_xattr()
    {
        var caps = FileCapabilities.Parse(["chown+p", "chown-p"], "test");

        Assert.True(caps.IsEmpty);
        Assert.Null(caps.XattrBytes());
    }

    [Theory]
    [InlineData("chown+x", "unknown flag 'x'")]
    [InlineData("cap_fly=p", "'cap_fly' in 'cap_fly=p' is not a Linux capability")]
    [InlineData("64", "'64' is not a Linux capability")]
    [InlineData(" chown", "is not a Linux capability")]
    public void Bad_capability_terms_are_ko1102_naming_the_term(string term, string message)
    {
        var ex = Assert.Throws<KoException>(() => FileCapabilities.Parse([term], "builds[0].linux_capabilities in .ko.yaml"));

        Assert.Equal("KO1102", ex.Code);
        Assert.Contains(message, ex.Message);
        Assert.StartsWith("builds[0].linux_capabilities in .ko.yaml: ", ex.Message);
    }

    [Fact]
    public async Task Binary_layer_with_plain_capability_names_writes_permitted_only_xattr()
    {
        using var storeDir = new TempDir();
        var store = new ContentStore(storeDir.Path);
        var binary = _dir.WriteFile("bin/app", "fake");

        var layer = await AppLayers.BinaryLayerAsync(store, new LayerCache(store), binary, "app", 0, CancellationToken.None, ["net_bind_service"]);

        var entries = TestUtil.ReadTar(TestUtil.Gunzip(await File.ReadAllBytesAsync(layer.Layer.Path)));
        var file = Assert.IsType<System.Formats.Tar.PaxTarEntry>(entries[1].Entry);
        var xattr = file.ExtendedAttributes[AppLayers.CapabilityPaxKey];
        Assert.Equal(Convert.FromHexString("00000002" + "00040000" + "00000000" + "00000000" + "00000000"), System.Text.Encoding.Latin1.GetBytes(xattr));
    }
}
