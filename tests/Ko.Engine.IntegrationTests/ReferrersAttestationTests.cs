using System.Text;
using System.Text.Json;
using Ko.Engine.Signing;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// SBOM attestations as OCI 1.1 referrers where the registry offers the referrers API, and the <c>.att</c> tag alone
/// where it does not: the fallback against the real docker-registry (which has no such API), the referrer against
/// <see cref="FakeReferrersRegistry"/> (a fake, since no registry here implements the API), and a fake whose
/// referrers answer is not an index (bad input: treated as no API).
/// </summary>
public sealed class ReferrersAttestationTests : IClassFixture<RegistryFixture>, IDisposable
{
    private const string Password = "pw-Referrers-Test-0b7d";
    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("ko-referrers");

    public ReferrersAttestationTests(RegistryFixture registry) => _registry = registry;

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, string?> Env() => Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_SIGN_PASSWORD"] = Password, ["KO_SIGN_KEY"] = null });

    private async Task<KoKeyPair> KeyAsync(string name) =>
        await new KoEngine().GenerateKeyAsync(new KoGenerateKeyOptions { OutputKeyPrefix = _dir.Combine(name), Environment = Env() });

    [Fact]
    public async Task On_docker_registry_without_the_referrers_API_the_attestation_is_in_the_att_tag_only()
    {
        var key = await KeyAsync("fallback");
        var env = new Dictionary<string, string?>(Env()) { ["KO_DOCKER_REPO"] = $"{_registry.Host}/referrers" };
        var run = await Repo.KoAsync(env, "build", ".", "-C", Repo.CopyHello(_dir.Combine("hello")), "--platform", "linux/amd64", "--sbom", "spdx");
        Assert.True(run.ExitCode == 0, run.ToString());
        var reference = run.References[0];
        var (name, digest) = (reference[..reference.IndexOf('@')], reference[(reference.IndexOf('@') + 1)..]);

        // The precondition this test is about: Debian's docker-registry answers the referrers API with 404.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using (var probe = await http.GetAsync($"http://{_registry.Host}/v2/{name[(name.IndexOf('/') + 1)..]}/referrers/{digest}"))
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, probe.StatusCode);
        }

        var sign = await Repo.KoAsync(Env(), "sign", "--attest-sbom", "--key", key.PrivateKeyPath, reference);
        Assert.True(sign.ExitCode == 0, sign.ToString());
        Assert.Contains($"{name}:sha256-{digest[7..]}.att", sign.References);
        Assert.Contains("does not offer the OCI 1.1 referrers API", sign.Stderr);
        Assert.DoesNotContain("as an OCI 1.1 referrer", sign.Stderr);
        var verify = await Repo.KoAsync(Env(), "verify", "--attestations", "--key", key.PublicKeyPath, reference);
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.DoesNotContain(Password, sign.Stdout + sign.Stderr + verify.Stdout + verify.Stderr);
    }

    [Fact]
    public async Task On_a_registry_with_the_referrers_API_the_attestation_is_also_a_referrer_of_the_image_and_verifies()
    {
        var key = await KeyAsync("referrer");
        using var fake = new FakeReferrersRegistry();
        var (name, image) = Seed(fake, "team/app");
        var engine = new KoEngine();
        var signed = await engine.SignAsync(new KoSignOptions { References = [$"{name}@{image}"], Key = key.PrivateKeyPath, AttestSbom = true, Environment = Env() });
        var attestation = Assert.Single(signed.Signatures, s => s.Attestation);
        Assert.Equal($"{name}:sha256-{image[7..]}.att", attestation.Reference);
        Assert.NotNull(attestation.Referrer);
        var referrerDigest = attestation.Referrer![(attestation.Referrer.IndexOf('@') + 1)..];

        // What was put by digest: an OCI 1.1 artifact about the image, its one layer the DSSE envelope in the .att tag.
        var put = Assert.Single(fake.Requests, r => r.Method == "PUT" && r.Path == $"/v2/team/app/manifests/{referrerDigest}");
        using var manifest = JsonDocument.Parse(put.Body);
        Assert.Equal("application/vnd.in-toto+json", manifest.RootElement.GetProperty("artifactType").GetString());
        Assert.Equal(image, manifest.RootElement.GetProperty("subject").GetProperty("digest").GetString());
        Assert.Equal("application/vnd.oci.empty.v1+json", manifest.RootElement.GetProperty("config").GetProperty("mediaType").GetString());
        var layer = Assert.Single(manifest.RootElement.GetProperty("layers").EnumerateArray().ToList());
        Assert.Equal("application/vnd.dsse.envelope.v1+json", layer.GetProperty("mediaType").GetString());
        Assert.Equal("https://spdx.dev/Document", layer.GetProperty("annotations").GetProperty("predicateType").GetString());
        Assert.NotNull(fake.Blob("team/app", layer.GetProperty("digest").GetString()!));
        Assert.NotNull(fake.Blob("team/app", manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!));
        Assert.True(fake.HasManifest("team/app", $"sha256-{image[7..]}.att"));

        // The registry now lists it among the image's referrers, next to the SBOM.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var listed = JsonDocument.Parse(await http.GetStringAsync($"http://{fake.Host}/v2/team/app/referrers/{image}"));
        Assert.Contains(listed.RootElement.GetProperty("manifests").EnumerateArray(), m => m.GetProperty("digest").GetString() == referrerDigest && m.GetProperty("artifactType").GetString() == "application/vnd.in-toto+json");

        var verified = await engine.VerifyAsync(new KoVerifyOptions { References = [$"{name}@{image}"], Key = key.PublicKeyPath, Attestations = true, Environment = Env() });
        Assert.Equal(["https://spdx.dev/Document"], Assert.Single(verified.Images).PredicateTypes);

        // Attesting again finds the attestation in .att and writes no second referrer.
        var again = await engine.SignAsync(new KoSignOptions { References = [$"{name}@{image}"], Key = key.PrivateKeyPath, AttestSbom = true, Environment = Env() });
        Assert.True(Assert.Single(again.Signatures, s => s.Attestation).AlreadyPresent);
        Assert.Single(fake.Requests, r => r.Method == "PUT" && r.Path.StartsWith("/v2/team/app/manifests/sha256:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_referrers_answer_that_is_not_an_index_is_taken_as_no_API_and_the_att_tag_still_holds_the_attestation()
    {
        var key = await KeyAsync("hostile");
        using var fake = new FakeReferrersRegistry { HostileReferrers = true };
        var (name, image) = Seed(fake, "team/hostile");
        var signed = await new KoEngine().SignAsync(new KoSignOptions { References = [$"{name}@{image}"], Key = key.PrivateKeyPath, AttestSbom = true, Environment = Env() });
        Assert.Null(Assert.Single(signed.Signatures, s => s.Attestation).Referrer);
        Assert.Contains(fake.Requests, r => r.Method == "GET" && r.Path == $"/v2/team/hostile/referrers/{image}");
        Assert.DoesNotContain(fake.Requests, r => r.Method == "PUT" && r.Path.StartsWith("/v2/team/hostile/manifests/sha256:", StringComparison.Ordinal));
        Assert.True(fake.HasManifest("team/hostile", $"sha256-{image[7..]}.att"));
    }

    /// <summary>An image (config, no layers) and an SPDX SBOM about it under ko's <c>.sbom</c> tag; returns the name and the image digest.</summary>
    private static (string Name, string Digest) Seed(FakeReferrersRegistry fake, string repository)
    {
        var config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{}}");
        var configDigest = fake.PutBlob(repository, config);
        var manifest = Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},\"layers\":[]}}");
        var image = fake.PutManifest(repository, "application/vnd.oci.image.manifest.v1+json", manifest, "latest");
        var document = Encoding.UTF8.GetBytes("{\"spdxVersion\":\"SPDX-2.3\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"name\":\"app\"}");
        var documentDigest = fake.PutBlob(repository, document);
        var empty = fake.PutBlob(repository, "{}"u8.ToArray());
        var sbom = Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"artifactType\":\"application/spdx+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"{empty}\",\"size\":2}},\"layers\":[{{\"mediaType\":\"application/spdx+json\",\"digest\":\"{documentDigest}\",\"size\":{document.Length}}}],\"subject\":{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"{image}\",\"size\":{manifest.Length}}}}}");
        fake.PutManifest(repository, "application/vnd.oci.image.manifest.v1+json", sbom, $"sha256-{image[7..]}.sbom");
        return ($"{fake.Host}/{repository}", image);
    }
}
