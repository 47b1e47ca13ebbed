using System.Text;
using System.Text.Json;
using Ko.Engine.Go;
using Ko.Engine.Oci;
using Ko.Engine.Sbom;

namespace Ko.Engine.Tests;

public sealed class SbomTests
{
    // What go version -m prints for a program with a proxy dependency (h1 sum) and a directory replacement (none).
    private const string VersionOutput =
        "/tmp/app: go1.22.1\n" +
        "\tpath\texample.com/app\n" +
        "\tmod\texample.com/app\t(devel)\t\n" +
        "\tdep\tgithub.com/google/uuid\tv1.6.0\th1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\n" +
        "\tdep\texample.com/dep\tv1.2.3\n" +
        "\t=>\t../dep\t(devel)\t\n" +
        "\tbuild\t-compiler=gc\n" +
        "\tbuild\tCGO_ENABLED=0\n" +
        "\tbuild\tGOOS=linux\n";

    private static readonly Digest ImageDigest = Digest.Sha256("image"u8);

    [Fact]
    public void Go_version_m_output_parses_into_modules_replacements_and_settings()
    {
        var info = GoBuildInfo.ParseVersionOutput(VersionOutput);
        Assert.Equal("go1.22.1", info.GoVersion);
        Assert.Equal("example.com/app", info.PackagePath);
        Assert.Equal(new GoModule("example.com/app", "(devel)", null), info.Main);
        Assert.Equal(2, info.Dependencies.Count);
        Assert.Equal("h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=", info.Dependencies[0].Sum);
        var replaced = info.Dependencies[1];
        Assert.Equal(("example.com/dep", "v1.2.3", (string?)null), (replaced.Path, replaced.Version, replaced.Sum));
        Assert.Equal(new GoModule("../dep", "(devel)", null), replaced.Replacement);
        Assert.Null(replaced.Sha256Hex);
        Assert.Equal(["-compiler=gc", "CGO_ENABLED=0", "GOOS=linux"], info.Settings.Select(s => $"{s.Key}={s.Value}"));
    }

    [Fact]
    public void An_h1_hash_is_the_hex_of_its_base64_sha256()
    {
        Assert.Equal(
            Convert.ToHexStringLower(Convert.FromBase64String("NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=")),
            GoModule.H1ToHex("h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0="));
        Assert.Equal(64, GoModule.H1ToHex("h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=")!.Length);
        Assert.Null(GoModule.H1ToHex("h2:abc"));
        Assert.Null(GoModule.H1ToHex("h1:not base64!"));
        Assert.Null(GoModule.H1ToHex("h1:AAAA"));
    }

    [Fact]
    public void The_inline_buildinfo_blob_decodes_as_go_writes_it()
    {
        var mod = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\nbuild\tGOOS=linux\n";
        var modBytes = Encoding.UTF8.GetBytes(mod);
        var sentinelStart = Convert.FromHexString("3077af0c9274080241e1c107e6d618e6");
        var sentinelEnd = Convert.FromHexString("f932433186182072008242104116d8f2");
        var wrapped = sentinelStart.Concat(modBytes).Concat(sentinelEnd).ToArray();
        var blob = new List<byte> { 0xff };
        blob.AddRange(" Go buildinf:"u8.ToArray());
        blob.Add(8);   // pointer size
        blob.Add(2);   // flags: inline strings, little endian
        blob.AddRange(new byte[16]);
        blob.Add(8);
        blob.AddRange("go1.19.8"u8.ToArray());
        blob.AddRange(Varint(wrapped.Length));
        blob.AddRange(wrapped);

        var info = BuildInfoReader.Decode(blob.ToArray());
        Assert.NotNull(info);
        Assert.Equal("go1.19.8", info.GoVersion);
        Assert.Equal("example.com/app", info.Main!.Path);
        Assert.Equal("linux", info.Settings.Single().Value);

        blob[15] = 0; // the pointer form of Go < 1.18 is left to go version -m
        Assert.Null(BuildInfoReader.Decode(blob.ToArray()));
    }

    [Fact]
    public async Task The_build_info_of_a_real_binary_is_read_without_running_go()
    {
        // This test assembly is not Go; the build machine's go binary is.
        var go = GoTool.Locate(Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (string?)e.Value));
        var info = await BuildInfoReader.TryReadDirectAsync(go, CancellationToken.None);
        Assert.NotNull(info);
        Assert.StartsWith("go1.", info.GoVersion);
        Assert.Equal("cmd/go", info.PackagePath);
        Assert.Null(await BuildInfoReader.TryReadDirectAsync(typeof(SbomTests).Assembly.Location, CancellationToken.None));
    }

    private static SbomImageFacts Facts() => new(
        "registry.example/team/app",
        ImageDigest,
        new Platform("linux", "arm", "v7"),
        "2024-01-02T03:04:05Z",
        "registry.example/base:1@sha256:" + new string('a', 64),
        "sha256:" + new string('a', 64),
        GoBuildInfo.ParseVersionOutput(VersionOutput));

    [Fact]
    public void SPDX_describes_image_base_main_module_and_dependencies_deterministically()
    {
        var bytes = SbomDocuments.ForImage(SbomFormat.Spdx, Facts());
        Assert.Equal(bytes, SbomDocuments.ForImage(SbomFormat.Spdx, Facts()));
        using var doc = JsonDocument.Parse(bytes);
        var root = doc.RootElement;
        Assert.Equal("SPDX-2.3", root.GetProperty("spdxVersion").GetString());
        Assert.Equal("2024-01-02T03:04:05Z", root.GetProperty("creationInfo").GetProperty("created").GetString());
        Assert.Contains(ImageDigest.Hex, root.GetProperty("documentNamespace").GetString());
        var packages = root.GetProperty("packages").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p);
        Assert.Equal(
            $"pkg:oci/app@sha256%3A{ImageDigest.Hex}?arch=arm&os=linux&variant=v7&repository_url=registry.example%2Fteam%2Fapp",
            packages["registry.example/team/app"].GetProperty("externalRefs")[0].GetProperty("referenceLocator").GetString());
        var uuid = packages["github.com/google/uuid"];
        Assert.Equal("v1.6.0", uuid.GetProperty("versionInfo").GetString());
        Assert.Equal(GoModule.H1ToHex("h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0="), uuid.GetProperty("checksums")[0].GetProperty("checksumValue").GetString());
        Assert.Equal("pkg:golang/github.com/google/uuid@v1.6.0", uuid.GetProperty("externalRefs")[0].GetProperty("referenceLocator").GetString());
        Assert.Equal("go1.22.1", packages["stdlib"].GetProperty("versionInfo").GetString());
        var relations = root.GetProperty("relationships").EnumerateArray().Select(r => r.GetProperty("relationshipType").GetString()).ToList();
        Assert.Equal(["DESCRIBES", "DESCENDANT_OF", "CONTAINS", "DEPENDS_ON", "DEPENDS_ON", "DEPENDS_ON"], relations);
        Assert.Contains(packages["example.com/app"].GetProperty("annotations").EnumerateArray(), a => a.GetProperty("comment").GetString() == "build CGO_ENABLED=0");
    }

    [Fact]
    public void CycloneDX_carries_the_same_facts_with_a_stable_serial_number()
    {
        var bytes = SbomDocuments.ForImage(SbomFormat.CycloneDx, Facts());
        Assert.Equal(bytes, SbomDocuments.ForImage(SbomFormat.CycloneDx, Facts()));
        using var doc = JsonDocument.Parse(bytes);
        var root = doc.RootElement;
        Assert.Equal("1.6", root.GetProperty("specVersion").GetString());
        Assert.Matches("^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", root.GetProperty("serialNumber").GetString());
        var components = root.GetProperty("components").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c);
        Assert.Equal("SHA-256", components["github.com/google/uuid"].GetProperty("hashes")[0].GetProperty("alg").GetString());
        Assert.Equal("v1.2.3", components["example.com/dep"].GetProperty("version").GetString());
        Assert.Equal("sha256:" + new string('a', 64), root.GetProperty("metadata").GetProperty("component").GetProperty("pedigree").GetProperty("ancestors")[0].GetProperty("version").GetString());
        var main = root.GetProperty("dependencies").EnumerateArray().Single(d => d.GetProperty("ref").GetString() == "pkg:golang/example.com/app");
        Assert.Equal(["pkg:golang/stdlib@go1.22.1", "pkg:golang/github.com/google/uuid@v1.6.0", "pkg:golang/example.com/dep@v1.2.3"], main.GetProperty("dependsOn").EnumerateArray().Select(d => d.GetString()));
    }

    [Fact]
    public void The_artifact_manifest_is_an_OCI_1_1_artifact_with_the_empty_config_and_a_subject()
    {
        var subject = new Descriptor(MediaTypes.OciManifest, ImageDigest, 123);
        var artifact = new SbomArtifact(SbomFormat.Spdx, subject, null, "{}"u8.ToArray(), "2024-01-02T03:04:05Z", "x.spdx.json");
        var manifest = Manifest.Parse(artifact.ManifestBytes, "artifact");
        Assert.Equal("application/spdx+json", manifest.ArtifactType);
        Assert.Equal("application/vnd.oci.empty.v1+json", manifest.Config.MediaType);
        Assert.Equal("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", manifest.Config.Digest.ToString());
        Assert.Equal(subject, manifest.Subject);
        Assert.Equal("application/spdx+json", manifest.Layers.Single().MediaType);
        Assert.Equal(Digest.Sha256(artifact.ManifestBytes), artifact.Digest);
    }

    [Theory]
    [InlineData("spdx", SbomFormat.Spdx)]
    [InlineData("CycloneDX", SbomFormat.CycloneDx)]
    [InlineData("none", SbomFormat.None)]
    public void Format_values_parse(string text, SbomFormat expected) => Assert.Equal(expected, SbomOptionValues.ParseFormat(text));

    [Fact]
    public void Unknown_values_are_KO1004()
    {
        Assert.Equal(KoErrorCodes.InvalidOption, Assert.Throws<KoException>(() => SbomOptionValues.ParseFormat("syft")).Code);
        Assert.Equal(KoErrorCodes.InvalidOption, Assert.Throws<KoException>(() => SbomOptionValues.ParseAttachment("cosign")).Code);
    }

    private static IEnumerable<byte> Varint(int value)
    {
        var v = (uint)value;
        while (v >= 0x80)
        {
            yield return (byte)(v | 0x80);
            v >>= 7;
        }

        yield return (byte)v;
    }
}
