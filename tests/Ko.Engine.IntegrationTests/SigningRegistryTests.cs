using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// Signing against the real docker-registry, checked by containers/image (through <see cref="CosignCheck"/>, since
/// Debian's skopeo has sigstore disabled) and by <c>dotnet ko verify</c>: a signed image is accepted; unsigned, signed
/// with another key, tampered and copied-to-another-repository ones are rejected, each with its KO code; a signature
/// containers/image writes with a <c>generate-key</c> key is accepted by <c>dotnet ko verify</c>; SBOM attestations;
/// and no key or password in any output or stored byte.
/// </summary>
public sealed class SigningRegistryTests : IClassFixture<RegistryFixture>, IDisposable
{
    private const string Password = "pw-Signing-Test-4f1c";
    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("ko-sign");
    private readonly string _src;
    private readonly List<string> _outputs = [];

    public SigningRegistryTests(RegistryFixture registry)
    {
        _registry = registry;
        _src = Repo.CopyHello(_dir.Combine("hello"));
    }

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, string?> Env(string repository, string? password = Password) =>
        Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = repository, ["KO_SIGN_PASSWORD"] = password });

    private async Task<Repo.KoRun> KoAsync(Dictionary<string, string?> env, params string[] args)
    {
        var run = await Repo.KoAsync(env, args);
        _outputs.Add(run.Stdout + run.Stderr);
        return run;
    }

    private async Task<string> RegistriesDAsync()
    {
        var dir = _dir.Combine("registries.d");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "default.yaml"), $"docker:\n  {_registry.Host}:\n    use-sigstore-attachments: true\n");
        return dir;
    }

    private async Task<(string Key, string Pub)> GenerateKeyAsync(string prefix)
    {
        var run = await KoAsync(Env("unused"), "generate-key", "--output-key-prefix", _dir.Combine(prefix));
        Assert.True(run.ExitCode == 0, run.ToString());
        return (_dir.Combine(prefix + ".key"), _dir.Combine(prefix + ".pub"));
    }

    private async Task<(string Name, string Digest)> BuildAsync(string repository, params string[] extra)
    {
        var run = await KoAsync(Env($"{_registry.Host}/{repository}"), ["build", "-C", _src, .. extra, "."]);
        Assert.True(run.ExitCode == 0, run.ToString());
        var reference = Assert.Single(run.References);
        return (reference[..reference.IndexOf('@')], reference[(reference.IndexOf('@') + 1)..]);
    }

    private static async Task<(int Code, string Output)> ContainersImageAsync(string pub, string reference, string registriesD) =>
        await CosignCheck.RunAsync("verify", pub, "docker://" + reference, registriesD);

    private static string ErrorCode(Repo.KoRun run) => run.Stderr.Contains("Error: KO", StringComparison.Ordinal)
        ? run.Stderr[(run.Stderr.IndexOf("Error: KO", StringComparison.Ordinal) + 7)..][..6]
        : "none";

    [Fact]
    public async Task A_signed_image_is_accepted_and_unsigned_other_key_tampered_and_moved_ones_are_rejected_by_containers_image_and_ko()
    {
        var regd = await RegistriesDAsync();
        var (key, pub) = await GenerateKeyAsync("k1");
        var (_, otherPub) = await GenerateKeyAsync("k2");
        var (name, digest) = await BuildAsync("signed");
        var env = Env("unused");

        // Unsigned.
        var unsigned = await ContainersImageAsync(pub, name + ":latest", regd);
        Assert.Equal(1, unsigned.Code);
        Assert.Contains("no signature exists", unsigned.Output);
        var koUnsigned = await KoAsync(env, "verify", "--key", pub, name + ":latest");
        Assert.Equal((1, "KO5006"), (koUnsigned.ExitCode, ErrorCode(koUnsigned)));

        // Signed.
        var sign = await KoAsync(env, "sign", "--key", key, "--sign-annotation", "team=core", name + ":latest");
        Assert.True(sign.ExitCode == 0, sign.ToString());
        Assert.Equal($"{name}:sha256-{digest[7..]}.sig", Assert.Single(sign.References));
        Assert.Equal((0, "accepted"), await ContainersImageAsync(pub, name + ":latest", regd));
        var verified = await KoAsync(env, "verify", "--key", pub, name + ":latest");
        Assert.True(verified.ExitCode == 0, verified.ToString());
        Assert.Equal($"{name}@{digest}", Assert.Single(verified.References));

        // Another key.
        var other = await ContainersImageAsync(otherPub, name + ":latest", regd);
        Assert.Equal(1, other.Code);
        Assert.Contains("verification failed", other.Output);
        var koOther = await KoAsync(env, "verify", "--key", otherPub, name + ":latest");
        Assert.Equal((1, "KO5007"), (koOther.ExitCode, ErrorCode(koOther)));

        // Signing again with the same key and payload writes nothing; the signature manifest keeps one layer.
        var again = await KoAsync(env, "sign", "--key", key, "--sign-annotation", "team=core", name + ":latest");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("already signed", again.Stderr);
        Assert.Single(Layers(await ManifestAsync(name, $"sha256-{digest[7..]}.sig")));

        // Tampered: the signature annotation of the one layer altered, the manifest put back under the tag.
        var (tamperedName, tamperedDigest) = await BuildAsync("tampered", "--image-label", "variant=tampered");
        Assert.Equal(0, (await KoAsync(env, "sign", "--key", key, tamperedName + ":latest")).ExitCode);
        var sigTag = $"sha256-{tamperedDigest[7..]}.sig";
        var manifest = JsonNode.Parse(await ManifestAsync(tamperedName, sigTag))!;
        var annotation = manifest["layers"]![0]!["annotations"]!["dev.cosignproject.cosign/signature"]!;
        var bytes = Convert.FromBase64String(annotation.GetValue<string>());
        bytes[^1] ^= 1;
        manifest["layers"]![0]!["annotations"]!["dev.cosignproject.cosign/signature"] = Convert.ToBase64String(bytes);
        await PutManifestAsync(tamperedName, sigTag, manifest.ToJsonString());
        Assert.Equal(1, (await ContainersImageAsync(pub, tamperedName + ":latest", regd)).Code);
        var koTampered = await KoAsync(env, "verify", "--key", pub, tamperedName + ":latest");
        Assert.Equal((1, "KO5007"), (koTampered.ExitCode, ErrorCode(koTampered)));

        // Another image's valid signature manifest put under this image's tag: the payload names another digest.
        await PutManifestAsync(tamperedName, sigTag, await ManifestAsync(name, $"sha256-{digest[7..]}.sig", copyBlobsTo: tamperedName));
        var swapped = await ContainersImageAsync(pub, tamperedName + ":latest", regd);
        Assert.Equal(1, swapped.Code);
        Assert.Contains("another manifest digest", swapped.Output);
        var koSwapped = await KoAsync(env, "verify", "--key", pub, tamperedName + ":latest");
        Assert.Equal((1, "KO5008"), (koSwapped.ExitCode, ErrorCode(koSwapped)));

        // The signed image and its signature copied whole into another repository: signed for the first one only.
        var moved = name.Replace("/signed/", "/moved/", StringComparison.Ordinal);
        await Tools.RunAsync("skopeo", ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--preserve-digests", $"docker://{name}@{digest}", $"docker://{moved}:latest"]);
        await PutManifestAsync(moved, $"sha256-{digest[7..]}.sig", await ManifestAsync(name, $"sha256-{digest[7..]}.sig", copyBlobsTo: moved));
        var movedCheck = await ContainersImageAsync(pub, moved + ":latest", regd);
        Assert.Equal(1, movedCheck.Code);
        Assert.Contains("does not match", movedCheck.Output);
        var koMoved = await KoAsync(env, "verify", "--key", pub, moved + ":latest");
        Assert.Equal((1, "KO5009"), (koMoved.ExitCode, ErrorCode(koMoved)));

        AssertNoSecrets(key);
    }

    [Fact]
    public async Task Signatures_are_appended_and_a_signature_containers_image_makes_with_a_generate_key_key_is_accepted_by_ko_verify()
    {
        var regd = await RegistriesDAsync();
        var (key, pub) = await GenerateKeyAsync("ci");
        var (key2, pub2) = await GenerateKeyAsync("release");
        var (name, digest) = await BuildAsync("appended");
        var env = Env("unused");

        // containers/image signs first (as skopeo --sign-by-sigstore-private-key would): it must decrypt our key file.
        var passwordFile = _dir.Combine("password");
        await File.WriteAllTextAsync(passwordFile, Password);
        Assert.Equal((0, "signed"), await CosignCheck.RunAsync("sign", key, passwordFile, $"docker://{name}:latest", regd));
        var verified = await KoAsync(env, "verify", "--key", pub, name + ":latest");
        Assert.True(verified.ExitCode == 0, verified.ToString());

        // ko appends its own signature with another key; both keys now verify, with both tools.
        Assert.Equal(0, (await KoAsync(env, "sign", "--key", key2, name + ":latest")).ExitCode);
        Assert.Equal(2, Layers(await ManifestAsync(name, $"sha256-{digest[7..]}.sig")).Count);
        Assert.Equal((0, "accepted"), await ContainersImageAsync(pub, name + ":latest", regd));
        Assert.Equal((0, "accepted"), await ContainersImageAsync(pub2, name + ":latest", regd));
        Assert.Equal(0, (await KoAsync(env, "verify", "--key", pub, name + ":latest")).ExitCode);
        Assert.Equal(0, (await KoAsync(env, "verify", "--key", pub2, name + ":latest")).ExitCode);

        // Debian's skopeo itself: if it ever signs, ko must verify what it made; today it refuses (reported in the README).
        var skopeo = await Tools.RunAsync(
            "skopeo",
            ["--policy", await PolicyAnyAsync(), "--registries.d", regd, "copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--sign-by-sigstore-private-key", key, "--sign-passphrase-file", passwordFile, $"docker://{name}@{digest}", $"docker://{name.Replace("/appended/", "/skopeo/", StringComparison.Ordinal)}:latest"],
            check: false);
        if (skopeo.ExitCode == 0)
        {
            Assert.Equal(0, (await KoAsync(env, "verify", "--key", pub, name.Replace("/appended/", "/skopeo/", StringComparison.Ordinal) + ":latest")).ExitCode);
        }
        else
        {
            Assert.Contains("Debian-local change: sigstore disabled", skopeo.StandardError);
        }

        AssertNoSecrets(key);
    }

    [Fact]
    public async Task The_SBOM_attestation_is_a_signed_in_toto_statement_in_the_att_manifest_and_verify_attestations_checks_it()
    {
        var (key, pub) = await GenerateKeyAsync("att");
        var (_, otherPub) = await GenerateKeyAsync("att-other");
        var (name, digest) = await BuildAsync("attested");
        var env = Env("unused");
        var none = await KoAsync(env, "verify", "--attestations", "--key", pub, name + ":latest");
        Assert.Equal("KO5006", ErrorCode(none));

        var signOnly = await KoAsync(env, "sign", "--key", key, name + ":latest");
        Assert.Equal(0, signOnly.ExitCode);
        var noAtt = await KoAsync(env, "verify", "--attestations", "--key", pub, name + ":latest");
        Assert.Equal((1, "KO5011"), (noAtt.ExitCode, ErrorCode(noAtt)));

        var attest = await KoAsync(env, "sign", "--attest-sbom", "--key", key, name + ":latest");
        Assert.True(attest.ExitCode == 0, attest.ToString());
        Assert.Contains($"{name}:sha256-{digest[7..]}.att", attest.References);
        var manifest = await ManifestAsync(name, $"sha256-{digest[7..]}.att");
        var layer = Assert.Single(Layers(manifest));
        Assert.Equal("application/vnd.dsse.envelope.v1+json", layer.GetProperty("mediaType").GetString());
        Assert.Equal("https://spdx.dev/Document", layer.GetProperty("annotations").GetProperty("predicateType").GetString());

        // The envelope, read independently: DSSE, in-toto v0.1, subject = the image, predicate = the SPDX document.
        using var envelope = JsonDocument.Parse(await BlobAsync(name, layer.GetProperty("digest").GetString()!));
        Assert.Equal("application/vnd.in-toto+json", envelope.RootElement.GetProperty("payloadType").GetString());
        using var statement = JsonDocument.Parse(Convert.FromBase64String(envelope.RootElement.GetProperty("payload").GetString()!));
        Assert.Equal("https://in-toto.io/Statement/v0.1", statement.RootElement.GetProperty("_type").GetString());
        Assert.Equal(digest[7..], statement.RootElement.GetProperty("subject")[0].GetProperty("digest").GetProperty("sha256").GetString());
        Assert.Equal("SPDX-2.3", statement.RootElement.GetProperty("predicate").GetProperty("spdxVersion").GetString());
        using (var ecdsa = System.Security.Cryptography.ECDsa.Create())
        {
            ecdsa.ImportFromPem(await File.ReadAllTextAsync(pub));
            var payload = Convert.FromBase64String(envelope.RootElement.GetProperty("payload").GetString()!);
            var pae = Encoding.UTF8.GetBytes($"DSSEv1 28 application/vnd.in-toto+json {payload.Length} ").Concat(payload).ToArray();
            var sig = Convert.FromBase64String(envelope.RootElement.GetProperty("signatures")[0].GetProperty("sig").GetString()!);
            Assert.True(ecdsa.VerifyData(pae, sig, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.DSASignatureFormat.Rfc3279DerSequence));
        }

        var ok = await KoAsync(env, "verify", "--attestations", "--key", pub, name + ":latest");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("https://spdx.dev/Document", ok.Stderr);
        var wrong = await KoAsync(env, "verify", "--attestations", "--key", otherPub, name + ":latest");
        Assert.Equal("KO5007", ErrorCode(wrong)); // the signature check fails first
        AssertNoSecrets(key);
    }

    [Fact]
    public async Task Sign_recursive_signs_the_index_and_each_platform_image_and_containers_image_accepts_a_platform_image_by_digest()
    {
        var regd = await RegistriesDAsync();
        var (key, pub) = await GenerateKeyAsync("multi");
        var (name, digest) = await BuildAsync("multi", "--platform", "linux/amd64,linux/arm64", "--sbom", "none");
        var env = Env("unused");
        var sign = await KoAsync(env, "sign", "--recursive", "--key", key, $"{name}@{digest}");
        Assert.True(sign.ExitCode == 0, sign.ToString());
        Assert.Equal(3, sign.References.Count);
        using var index = JsonDocument.Parse(await ManifestAsync(name, digest, accept: "application/vnd.oci.image.index.v1+json"));
        var children = index.RootElement.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("digest").GetString()!).ToList();
        Assert.Equal(2, children.Count);
        foreach (var child in children.Prepend(digest))
        {
            Assert.Contains($"{name}:sha256-{child[7..]}.sig", sign.References);
            Assert.Equal(0, (await KoAsync(env, "verify", "--key", pub, $"{name}@{child}")).ExitCode);
        }

        Assert.Equal((0, "accepted"), await ContainersImageAsync(pub, $"{name}@{children[1]}", regd));
        Assert.Equal((0, "accepted"), await ContainersImageAsync(pub, $"{name}:latest", regd));
        AssertNoSecrets(key);
    }

    [Fact]
    public async Task Bad_inputs_to_sign_and_verify_are_one_line_KO_errors()
    {
        Ko.Cli.SigningInput.Prompt = _ => null; // no terminal to ask on, whatever the test host's standard input is
        var (key, pub) = await GenerateKeyAsync("bad");
        var (name, _) = await BuildAsync("bad", "--sbom", "none");
        var wrongPassword = await KoAsync(Env("unused", "wrong-password"), "sign", "--key", key, name + ":latest");
        Assert.Equal((1, "KO5002"), (wrongPassword.ExitCode, ErrorCode(wrongPassword)));
        Assert.DoesNotContain("wrong-password", wrongPassword.Stderr);
        var noPassword = await KoAsync(Env("unused", null), "sign", "--key", key, name + ":latest");
        Assert.Equal("KO5002", ErrorCode(noPassword));
        var noSbom = await KoAsync(Env("unused"), "sign", "--attest-sbom", "--key", key, name + ":latest");
        Assert.Equal("KO5013", ErrorCode(noSbom));
        var exists = await KoAsync(Env("unused"), "generate-key", "--output-key-prefix", _dir.Combine("bad"));
        Assert.Equal("KO5004", ErrorCode(exists));
        var pubAsKey = await KoAsync(Env("unused"), "sign", "--key", pub, name + ":latest");
        Assert.Equal("KO5001", ErrorCode(pubAsKey));
        var keyAsPub = await KoAsync(Env("unused"), "verify", "--key", key, name + ":latest");
        Assert.Equal("KO5003", ErrorCode(keyAsPub));
        var badAnnotation = await KoAsync(Env("unused"), "sign", "--key", key, "--sign-annotation", "timestamp=now", name + ":latest");
        Assert.Equal("KO5005", ErrorCode(badAnnotation));

        // A signature tag that holds something else than cosign's manifest.
        var (other, otherDigest) = await BuildAsync("bad-sigtag", "--sbom", "none", "--image-label", "v=2");
        await PutManifestAsync(other, $"sha256-{otherDigest[7..]}.sig", $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}}", "application/vnd.oci.image.index.v1+json");
        var invalid = await KoAsync(Env("unused"), "sign", "--key", key, other + ":latest");
        Assert.Equal("KO5010", ErrorCode(invalid));
        foreach (var run in new[] { wrongPassword, noPassword, noSbom, exists, pubAsKey, keyAsPub, badAnnotation, invalid })
        {
            Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("Error: KO", StringComparison.Ordinal));
            Assert.DoesNotContain("   at ", run.Stderr);
        }

        AssertNoSecrets(key);
    }

    /// <summary>The password and the key file's body appear in no output and in no file but the key file: not in the registry's storage, not in the test directory.</summary>
    private void AssertNoSecrets(string keyFile)
    {
        var keyBody = File.ReadAllLines(keyFile).Where(l => !l.StartsWith("-----", StringComparison.Ordinal)).ToList();
        List<string> secrets = [Password, .. keyBody];
        foreach (var output in _outputs)
        {
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, output);
            }
        }

        foreach (var file in Directory.EnumerateFiles(_registry.DataDirectory, "*", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(_dir.Path, "*", SearchOption.AllDirectories))
            .Where(f => !f.EndsWith(".key", StringComparison.Ordinal) && !f.EndsWith("/password", StringComparison.Ordinal) && new FileInfo(f).Length < (64 << 20)))
        {
            var text = Encoding.Latin1.GetString(File.ReadAllBytes(file));
            foreach (var secret in secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{file} holds a secret");
            }
        }
    }

    private static List<JsonElement> Layers(string manifest) =>
        JsonDocument.Parse(manifest).RootElement.GetProperty("layers").EnumerateArray().ToList();

    private async Task<string> PolicyAnyAsync()
    {
        var path = _dir.Combine("policy-any.json");
        await File.WriteAllTextAsync(path, "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}");
        return path;
    }

    /// <summary>A manifest by tag, as the registry serves it; with <paramref name="copyBlobsTo"/>, its blobs are copied to that repository too.</summary>
    private async Task<string> ManifestAsync(string name, string tag, string? copyBlobsTo = null, string accept = "application/vnd.oci.image.manifest.v1+json")
    {
        var repository = name[(name.IndexOf('/') + 1)..];
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{_registry.Host}/v2/{repository}/manifests/{tag}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync();
        if (copyBlobsTo is not null)
        {
            using var doc = JsonDocument.Parse(text);
            var digests = Layers(text).Select(l => l.GetProperty("digest").GetString()!).Append(doc.RootElement.GetProperty("config").GetProperty("digest").GetString()!);
            foreach (var blob in digests)
            {
                var bytes = await BlobAsync(name, blob);
                var target = copyBlobsTo[(copyBlobsTo.IndexOf('/') + 1)..];
                using var start = await http.PostAsync($"http://{_registry.Host}/v2/{target}/blobs/uploads/", null);
                var location = new Uri(new Uri($"http://{_registry.Host}"), start.Headers.Location!);
                var put = new UriBuilder(location) { Query = (location.Query.TrimStart('?') + "&digest=" + Uri.EscapeDataString(blob)).TrimStart('&') };
                using var done = await http.PutAsync(put.Uri, new ByteArrayContent(bytes));
                done.EnsureSuccessStatusCode();
            }
        }

        return text;
    }

    private async Task PutManifestAsync(string name, string tag, string manifest, string mediaType = "application/vnd.oci.image.manifest.v1+json")
    {
        var repository = name[(name.IndexOf('/') + 1)..];
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var content = new StringContent(manifest, new MediaTypeHeaderValue(mediaType));
        using var response = await http.PutAsync($"http://{_registry.Host}/v2/{repository}/manifests/{tag}", content);
        Assert.True(response.IsSuccessStatusCode, $"PUT {tag}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<byte[]> BlobAsync(string name, string digest)
    {
        var repository = name[(name.IndexOf('/') + 1)..];
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        return await http.GetByteArrayAsync($"http://{_registry.Host}/v2/{repository}/blobs/{digest}");
    }
}
