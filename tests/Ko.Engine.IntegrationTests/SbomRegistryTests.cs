using System.Net;
using System.Text.Json;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// SBOMs pushed to the real docker-registry (2.8 has no referrers API, so the referrers tag schema is what finds
/// them), read back with skopeo (manifests) and plain HTTP (blobs); SBOM files from --sbom-dir.
/// </summary>
public sealed class SbomRegistryTests : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("ko-sbom");

    public SbomRegistryTests(RegistryFixture registry) => _registry = registry;

    public void Dispose() => _dir.Dispose();

    private async Task<string> GoVersionAsync() => (await Tools.RunAsync("go", ["env", "GOVERSION"])).StandardOutput.Trim();

    private async Task<JsonDocument> ManifestAsync(string repository, string reference)
    {
        var sep = reference.StartsWith("sha256:", StringComparison.Ordinal) ? "@" : ":";
        var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", $"docker://{_registry.Host}/{repository}{sep}{reference}"]);
        return JsonDocument.Parse(raw.StandardOutput);
    }

    private async Task<byte[]> BlobAsync(string repository, string digest)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var bytes = await http.GetByteArrayAsync($"http://{_registry.Host}/v2/{repository}/blobs/{digest}");
        Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
        return bytes;
    }

    /// <summary>Follows the referrers tag schema: the sha256-HEX index, the artifact manifest of the type, its one layer.</summary>
    private async Task<(string ArtifactDigest, byte[] Document)> FetchSbomAsync(string repository, string subject, string artifactType)
    {
        using var index = await ManifestAsync(repository, "sha256-" + subject["sha256:".Length..]);
        Assert.Equal("application/vnd.oci.image.index.v1+json", index.RootElement.GetProperty("mediaType").GetString());
        var entry = Assert.Single(index.RootElement.GetProperty("manifests").EnumerateArray(), m => m.GetProperty("artifactType").GetString() == artifactType);
        var artifactDigest = entry.GetProperty("digest").GetString()!;
        using var artifact = await ManifestAsync(repository, artifactDigest);
        var root = artifact.RootElement;
        Assert.Equal(artifactType, root.GetProperty("artifactType").GetString());
        Assert.Equal("application/vnd.oci.empty.v1+json", root.GetProperty("config").GetProperty("mediaType").GetString());
        Assert.Equal(2, root.GetProperty("config").GetProperty("size").GetInt32());
        Assert.Equal(subject, root.GetProperty("subject").GetProperty("digest").GetString());
        var layer = Assert.Single(root.GetProperty("layers").EnumerateArray());
        Assert.Equal(artifactType, layer.GetProperty("mediaType").GetString());
        return (artifactDigest, await BlobAsync(repository, layer.GetProperty("digest").GetString()!));
    }

    private static JsonElement SpdxPackage(JsonElement doc, Func<JsonElement, bool> match) =>
        Assert.Single(doc.GetProperty("packages").EnumerateArray(), p => match(p));

    private static string SpdxId(JsonElement doc, string name) =>
        SpdxPackage(doc, p => p.GetProperty("name").GetString() == name).GetProperty("SPDXID").GetString()!;

    private static bool HasRelationship(JsonElement doc, string from, string type, string to) =>
        doc.GetProperty("relationships").EnumerateArray().Any(r =>
            r.GetProperty("spdxElementId").GetString() == from && r.GetProperty("relationshipType").GetString() == type && r.GetProperty("relatedSpdxElement").GetString() == to);

    [Fact]
    public async Task Two_platform_push_attaches_SPDX_found_through_the_referrers_tag_schema()
    {
        var src = Repo.CopyHello(_dir.Combine("hello"));
        var refs = _dir.Combine("refs.txt");
        var env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = $"{_registry.Host}/sbom" });
        var run = await Repo.KoAsync(env, "build", ".", "-C", src, "--platform", "linux/amd64,linux/arm64", "--image-refs", refs, "--bare");
        Assert.True(run.ExitCode == 0, run.ToString());
        var reference = Assert.Single(run.References);
        var indexDigest = reference.Split('@')[1];
        const string repo = "sbom";

        // docker-registry 2.8 has no referrers API: the fallback is what is exercised here.
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://{_registry.Host}/v2/{repo}/referrers/{indexDigest}")).StatusCode);
        }

        var goVersion = await GoVersionAsync();
        using var index = await ManifestAsync(repo, indexDigest);
        var children = index.RootElement.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("digest").GetString()!).ToList();
        Assert.Equal(2, children.Count);
        var artifactRefs = new List<string>();
        foreach (var child in children)
        {
            var (artifact, bytes) = await FetchSbomAsync(repo, child, "application/spdx+json");
            artifactRefs.Add($"{_registry.Host}/{repo}@{artifact}");
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            SbomStructure.AssertSpdx23(root);
            var image = SpdxPackage(root, p => p.GetProperty("primaryPackagePurpose").GetString() == "CONTAINER" && p.GetProperty("versionInfo").GetString() == child);
            var imageId = image.GetProperty("SPDXID").GetString()!;
            Assert.Contains(child["sha256:".Length..], image.GetProperty("externalRefs")[0].GetProperty("referenceLocator").GetString());
            Assert.Equal(child["sha256:".Length..], image.GetProperty("checksums")[0].GetProperty("checksumValue").GetString());
            Assert.True(HasRelationship(root, "SPDXRef-DOCUMENT", "DESCRIBES", imageId));
            Assert.True(HasRelationship(root, imageId, "DESCENDANT_OF", SpdxId(root, "embedded:static")));
            var main = SpdxId(root, "example.com/hello");
            Assert.True(HasRelationship(root, imageId, "CONTAINS", main));
            var stdlib = SpdxPackage(root, p => p.GetProperty("name").GetString() == "stdlib");
            Assert.Equal(goVersion, stdlib.GetProperty("versionInfo").GetString());
            Assert.True(HasRelationship(root, main, "DEPENDS_ON", stdlib.GetProperty("SPDXID").GetString()!));
        }

        // The index's own SBOM relates the platform images with VARIANT_OF.
        var (indexArtifact, indexBytes) = await FetchSbomAsync(repo, indexDigest, "application/spdx+json");
        using (var doc = JsonDocument.Parse(indexBytes))
        {
            SbomStructure.AssertSpdx23(doc.RootElement);
            var indexId = SpdxPackage(doc.RootElement, p => p.GetProperty("versionInfo").GetString() == indexDigest).GetProperty("SPDXID").GetString()!;
            foreach (var child in children)
            {
                var childId = SpdxPackage(doc.RootElement, p => p.GetProperty("versionInfo").GetString() == child).GetProperty("SPDXID").GetString()!;
                Assert.True(HasRelationship(doc.RootElement, childId, "VARIANT_OF", indexId));
            }
        }

        // --image-refs: the index and each platform image (as ko's recorder), then the SBOM artifacts.
        var lines = File.ReadAllLines(refs);
        Assert.Equal(reference, lines[0]);
        Assert.Equal(children.Select(c => $"{_registry.Host}/{repo}@{c}"), lines[1..3]);
        Assert.Equal([.. artifactRefs, $"{_registry.Host}/{repo}@{indexArtifact}"], lines[3..]);
    }

    [Fact]
    public async Task A_second_artifact_for_the_same_image_is_added_to_the_tag_schema_index_and_rebuilds_are_identical()
    {
        var src = Repo.CopyHello(_dir.Combine("hello"));
        var env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = $"{_registry.Host}/twice" });
        var spdxDir = _dir.Combine("spdx");
        var first = await Repo.KoAsync(env, "build", ".", "-C", src, "--platform", "linux/amd64", "--bare", "--sbom-dir", spdxDir, "--image-refs", _dir.Combine("r1"));
        Assert.True(first.ExitCode == 0, first.ToString());
        var cdx = await Repo.KoAsync(env, "build", ".", "-C", src, "--platform", "linux/amd64", "--bare", "--sbom", "cyclonedx", "--sbom-dir", _dir.Combine("cdx"));
        Assert.True(cdx.ExitCode == 0, cdx.ToString());

        // A fresh cache and the same again: identical SBOM bytes and artifact digests; the tag schema index is not duplicated.
        var again = await Repo.KoAsync(Repo.Environment(_dir.Combine("cache2"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = $"{_registry.Host}/twice" }), "build", ".", "-C", src, "--platform", "linux/amd64", "--bare", "--sbom-dir", _dir.Combine("spdx2"), "--image-refs", _dir.Combine("r2"));
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(first.References, again.References);
        Assert.Equal(File.ReadAllBytes(Path.Combine(spdxDir, "hello-linux-amd64.spdx.json")), File.ReadAllBytes(_dir.Combine("spdx2", "hello-linux-amd64.spdx.json")));
        Assert.Equal(File.ReadAllLines(_dir.Combine("r1")), File.ReadAllLines(_dir.Combine("r2")));

        var digest = first.References.Single().Split('@')[1];
        using var index = await ManifestAsync("twice", "sha256-" + digest["sha256:".Length..]);
        var types = index.RootElement.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("artifactType").GetString()).ToList();
        Assert.Equal(["application/spdx+json", "application/vnd.cyclonedx+json"], types);

        var (spdxArtifact, spdx) = await FetchSbomAsync("twice", digest, "application/spdx+json");
        Assert.Equal(File.ReadAllBytes(Path.Combine(spdxDir, "hello-linux-amd64.spdx.json")), spdx);
        Assert.Equal($"{_registry.Host}/twice@{spdxArtifact}", File.ReadAllLines(_dir.Combine("r1"))[1]);
        var (_, cyclone) = await FetchSbomAsync("twice", digest, "application/vnd.cyclonedx+json");
        Assert.Equal(File.ReadAllBytes(_dir.Combine("cdx", "hello-linux-amd64.cyclonedx.json")), cyclone);
        using var cdxDoc = JsonDocument.Parse(cyclone);
        SbomStructure.AssertCycloneDx16(cdxDoc.RootElement);
    }

    [Fact]
    public async Task Attach_tag_writes_kos_sbom_tag()
    {
        var src = Repo.CopyHello(_dir.Combine("hello"));
        var env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = $"{_registry.Host}/kotag" });
        var run = await Repo.KoAsync(env, "build", ".", "-C", src, "--platform", "linux/amd64", "--bare", "--sbom-attach=tag");
        Assert.True(run.ExitCode == 0, run.ToString());
        var digest = run.References.Single().Split('@')[1];
        using var artifact = await ManifestAsync("kotag", $"sha256-{digest["sha256:".Length..]}.sbom");
        Assert.Equal("application/spdx+json", artifact.RootElement.GetProperty("artifactType").GetString());
        Assert.Equal(digest, artifact.RootElement.GetProperty("subject").GetProperty("digest").GetString());
        var tags = await Tools.RunAsync("skopeo", ["list-tags", "--tls-verify=false", $"docker://{_registry.Host}/kotag"]);
        Assert.DoesNotContain($"\"sha256-{digest["sha256:".Length..]}\"", tags.StandardOutput);
    }

    [Fact]
    public async Task A_replaced_dependency_module_shows_with_its_version_in_both_formats()
    {
        var dep = _dir.Combine("dep");
        var app = _dir.Combine("app");
        Directory.CreateDirectory(dep);
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(dep, "go.mod"), "module example.com/dep\n\ngo 1.19\n");
        File.WriteAllText(Path.Combine(dep, "dep.go"), "package dep\n\nfunc Hello() string { return \"hi from dep\" }\n");
        File.WriteAllText(Path.Combine(app, "go.mod"), "module example.com/app\n\ngo 1.19\n\nrequire example.com/dep v1.2.3\n\nreplace example.com/dep v1.2.3 => ../dep\n");
        File.WriteAllText(Path.Combine(app, "main.go"), "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/dep\"\n)\n\nfunc main() { fmt.Println(dep.Hello()) }\n");
        var env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["GOFLAGS"] = "-mod=mod", ["GOPROXY"] = "off" });
        var layout = _dir.Combine("layout");
        foreach (var format in new[] { "spdx", "cyclonedx" })
        {
            var run = await Repo.KoAsync(env, "build", ".", "-C", app, "--push=false", "--platform", "linux/amd64", "--sbom", format, "--sbom-dir", _dir.Combine("out"), "--oci-layout-path", layout);
            Assert.True(run.ExitCode == 0, run.ToString());
        }

        using (var spdx = JsonDocument.Parse(File.ReadAllBytes(_dir.Combine("out", "app-linux-amd64.spdx.json"))))
        {
            SbomStructure.AssertSpdx23(spdx.RootElement);
            var package = SpdxPackage(spdx.RootElement, p => p.GetProperty("name").GetString() == "example.com/dep");
            Assert.Equal("v1.2.3", package.GetProperty("versionInfo").GetString());
            Assert.Equal("pkg:golang/example.com/dep@v1.2.3", package.GetProperty("externalRefs")[0].GetProperty("referenceLocator").GetString());
            Assert.Contains("../dep", package.GetProperty("comment").GetString());
            Assert.True(HasRelationship(spdx.RootElement, SpdxId(spdx.RootElement, "example.com/app"), "DEPENDS_ON", package.GetProperty("SPDXID").GetString()!));
        }

        using (var cdx = JsonDocument.Parse(File.ReadAllBytes(_dir.Combine("out", "app-linux-amd64.cyclonedx.json"))))
        {
            SbomStructure.AssertCycloneDx16(cdx.RootElement);
            var component = Assert.Single(cdx.RootElement.GetProperty("components").EnumerateArray(), c => c.GetProperty("name").GetString() == "example.com/dep");
            Assert.Equal("v1.2.3", component.GetProperty("version").GetString());
            Assert.Equal("pkg:golang/example.com/dep@v1.2.3", component.GetProperty("purl").GetString());
            var mainDeps = Assert.Single(cdx.RootElement.GetProperty("dependencies").EnumerateArray(), d => d.GetProperty("ref").GetString() == "pkg:golang/example.com/app");
            Assert.Contains(mainDeps.GetProperty("dependsOn").EnumerateArray(), d => d.GetString() == "pkg:golang/example.com/dep@v1.2.3");
        }

        // The OCI layout carries the artifact (listed because --sbom was given) and its blobs.
        using var top = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        var artifacts = top.RootElement.GetProperty("manifests").EnumerateArray().Where(m => m.TryGetProperty("artifactType", out _)).ToList();
        Assert.Equal(["application/spdx+json", "application/vnd.cyclonedx+json"], artifacts.Select(a => a.GetProperty("artifactType").GetString()));
        foreach (var a in artifacts)
        {
            using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", a.GetProperty("digest").GetString()!["sha256:".Length..])));
            Assert.True(File.Exists(Path.Combine(layout, "blobs", "sha256", manifest.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!["sha256:".Length..])));
        }
    }
}
