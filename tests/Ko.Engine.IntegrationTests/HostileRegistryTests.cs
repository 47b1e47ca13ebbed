using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Ko.Engine.Oci;
using Ko.Engine.Registry;

namespace Ko.Engine.IntegrationTests;

/// <summary>The test's credential: given for one registry host only, and it records every host it was asked for.</summary>
internal sealed class SecretCredentials(string registryHost, string user, string password) : ICredentialProvider
{
    public List<string> AskedFor { get; } = [];

    public ValueTask<RegistryCredential?> GetAsync(string host, CancellationToken cancellationToken)
    {
        lock (AskedFor)
        {
            AskedFor.Add(host);
        }

        return ValueTask.FromResult(host == registryHost ? new RegistryCredential(user, password) : null);
    }
}

/// <summary>
/// A hostile registry: <see cref="FaultProxy"/> in front of the real docker-registry (or, where a host only has to
/// refuse, hang, trickle or never stop talking, a fake host that answers by itself), and a second host that records
/// every request with its headers. Proves on the wire that the registry's secret goes to the registry (and the token
/// service it names, never over plain HTTP from HTTPS) and nowhere else; that every wait is bounded by a timeout from
/// the environment; that every body read into memory is capped; and that each failure is a KoException sentence.
/// </summary>
public sealed class HostileRegistryTests : IClassFixture<RegistryFixture>, IDisposable
{
    private const string User = "kouser";
    private const string Password = "Pw-7f3a9c-hostile-SECRET";

    // Every test stops by itself: the engine's timeouts are small, and this bounds a test that would hang without them.
    private static readonly TimeSpan TestBound = TimeSpan.FromSeconds(20);

    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("ko-hostile");

    public HostileRegistryTests(RegistryFixture registry) => _registry = registry;

    public void Dispose() => _dir.Dispose();

    private static string BasicValue => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));

    private static RegistryOptions Options(SecretCredentials? credentials, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var env = new Dictionary<string, string?>
        {
            ["KO_REGISTRY_RETRY_ATTEMPTS"] = "2",
            ["KO_REGISTRY_RETRY_INITIAL_MS"] = "10",
            ["KO_REGISTRY_RESPONSE_TIMEOUT_MS"] = "1500",
            ["KO_REGISTRY_IDLE_TIMEOUT_MS"] = "1500",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            env[k] = v;
        }

        return RetryHandler.FromEnvironment(new RegistryOptions { Environment = env, Credentials = (ICredentialProvider?)credentials ?? AnonymousCredentials.Instance });
    }

    /// <summary>A proxy in front of the real registry that wants Basic credentials for everything.</summary>
    private FaultProxy BasicFront(Func<FaultRequest, FaultAction> authenticated) =>
        new(_registry.Port, r => r.HasAuthorization ? authenticated(r) : FaultAction.Respond(401, ("WWW-Authenticate", "Basic realm=\"front\"")));

    private async Task<(Digest Digest, byte[] Payload)> PushBlobAsync(string repository)
    {
        var payload = Encoding.UTF8.GetBytes("hostile blob " + Guid.NewGuid());
        var digest = Digest.Sha256(payload);
        using var direct = new HttpClient { BaseAddress = new Uri($"http://{_registry.Host}/"), Timeout = TimeSpan.FromSeconds(10) };
        using var start = await direct.PostAsync($"v2/{repository}/blobs/uploads/", new ByteArrayContent([]));
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = new Uri(direct.BaseAddress, start.Headers.Location!);
        using var put = await direct.PutAsync(RegistryClient.AppendDigest(location, digest), new ByteArrayContent(payload));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        return (digest, payload);
    }

    /// <summary>No request that reached <paramref name="host"/> carried the secret in any form, or any Authorization.</summary>
    private static void AssertNoSecretReached(FaultProxy host)
    {
        foreach (var record in host.Records)
        {
            Assert.False(record.HadAuthorization, $"{host.Host} received Authorization:\n{record.Wire}");
            Assert.DoesNotContain(Password, record.Wire, StringComparison.Ordinal);
            Assert.DoesNotContain(BasicValue, record.Wire, StringComparison.Ordinal);
        }
    }

    private static async Task<KoException> FailsAsync(Func<CancellationToken, Task> action)
    {
        using var bound = new CancellationTokenSource(TestBound);
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => action(bound.Token));
        Assert.True(clock.Elapsed < TestBound, $"took {clock.Elapsed}: {ex}");
        var ko = Assert.IsType<KoException>(ex);
        Assert.DoesNotContain(Password, ko.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("net_http", ko.Message, StringComparison.Ordinal);
        return ko;
    }

    [Fact]
    public async Task A_blob_redirected_to_another_host_that_answers_401_Basic_gets_no_credentials_and_the_error_names_that_host()
    {
        var (digest, payload) = await PushBlobAsync("hostile/basic");
        await using var other = new FaultProxy(_registry.Port, r => r.Target.Contains("deny=1", StringComparison.Ordinal)
            ? FaultAction.Respond(401, ("WWW-Authenticate", "Basic realm=\"other\""))
            : FaultAction.Forward);
        var deny = false;
        await using var front = BasicFront(r => r.Method == "GET" && r.Path.Contains("/blobs/", StringComparison.Ordinal)
            ? FaultAction.Respond(307, ("Location", $"http://{other.Host}{r.Path}{(deny ? "?deny=1" : string.Empty)}"))
            : FaultAction.Forward);
        var credentials = new SecretCredentials(front.Host, User, Password);
        using var client = new RegistryClient(front.Host, Options(credentials));

        // A storage host that serves the blob anonymously works: the redirect is followed, the bytes verified.
        await using (var blob = await client.GetBlobAsync("hostile/basic", digest, payload.Length, CancellationToken.None))
        {
            using var copy = new MemoryStream();
            await blob.CopyToAsync(copy);
            Assert.Equal(payload, copy.ToArray());
        }

        // One that asks for credentials is refused them, and the error blames it, not the registry.
        deny = true;
        var ko = await FailsAsync(ct => client.GetBlobAsync("hostile/basic", digest, payload.Length, ct));
        Assert.Equal("KO3009", ko.Code);
        Assert.Contains(other.Host, ko.Message, StringComparison.Ordinal);
        Assert.Contains(front.Host, ko.Message, StringComparison.Ordinal);

        Assert.Contains(front.Records, r => r.HadAuthorization && r.Headers["Authorization"] == "Basic " + BasicValue);
        Assert.Contains(other.Records, r => r.Target.Contains("deny=1", StringComparison.Ordinal));
        AssertNoSecretReached(other);
        Assert.All(credentials.AskedFor, h => Assert.Equal(front.Host, h));
    }

    [Fact]
    public async Task A_blob_redirected_to_another_host_that_answers_401_Bearer_never_sends_the_secret_to_that_hosts_token_realm()
    {
        var (digest, payload) = await PushBlobAsync("hostile/bearer");
        FaultProxy? otherRef = null;
        await using var other = new FaultProxy(0, r => r.Path == "/token"
            ? FaultAction.Respond(200)
            : FaultAction.Respond(401, ("WWW-Authenticate", $"Bearer realm=\"http://{otherRef!.Host}/token\",service=\"evil\"")));
        otherRef = other;
        await using var front = BasicFront(r => r.Method == "GET" && r.Path.Contains("/blobs/", StringComparison.Ordinal)
            ? FaultAction.Respond(307, ("Location", $"http://{other.Host}{r.Path}"))
            : FaultAction.Forward);
        using var client = new RegistryClient(front.Host, Options(new SecretCredentials(front.Host, User, Password)));

        var ko = await FailsAsync(ct => client.GetBlobAsync("hostile/bearer", digest, payload.Length, ct));
        Assert.Equal("KO3009", ko.Code);
        Assert.Contains(other.Host, ko.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(other.Records, r => r.Path == "/token");
        AssertNoSecretReached(other);
    }

    [Fact]
    public async Task An_upload_Location_on_another_host_is_sent_the_blob_without_Authorization()
    {
        await using var other = new FaultProxy(0, r => r.Method == "PUT" ? FaultAction.Respond(201) : FaultAction.Respond(404));
        await using var front = BasicFront(r => r.Method == "POST" && r.Path.EndsWith("/blobs/uploads/", StringComparison.Ordinal)
            ? FaultAction.Respond(202, ("Location", $"http://{other.Host}/v2/hostile/upload/blobs/uploads/session-1?state=x"))
            : FaultAction.Forward);
        using var client = new RegistryClient(front.Host, Options(new SecretCredentials(front.Host, User, Password)));
        var payload = "uploaded elsewhere"u8.ToArray();

        await client.UploadBlobAsync("hostile/upload", Digest.Sha256(payload), payload.Length, _ => ValueTask.FromResult<Stream>(new MemoryStream(payload)), CancellationToken.None);

        Assert.Contains(front.Records, r => r.Method == "POST" && r.HadAuthorization);
        var put = Assert.Single(other.Records, r => r.Method == "PUT");
        Assert.Equal(payload.Length, put.ContentLength);
        AssertNoSecretReached(other);
    }

    [Fact]
    public async Task An_HTTPS_registry_whose_token_realm_is_plain_HTTP_never_gets_the_credentials_sent_over_HTTP()
    {
        using var pki = new AuthPki(_dir.Combine("pki"));
        const string tokenUser = "tokenuser";
        const string tokenPassword = "t0ken-hostile-Pa55";
        await using var tokens = new AuthTokenServer(pki, tokenUser, tokenPassword);
        await using var registry = await RegistryServer.StartAsync(pki.ServerCertFile, pki.ServerKeyFile, tokens.RegistryConfig(pki.CaFile));
        var options = Options(new SecretCredentials(registry.Host, tokenUser, tokenPassword), new Dictionary<string, string?> { ["SSL_CERT_FILE"] = pki.CaFile });
        using var client = new RegistryClient(registry.Host, options);
        var digest = Digest.Sha256("absent"u8.ToArray());

        // A pull needs no credentials: the token comes anonymously from the plain-HTTP realm.
        Assert.False(await client.BlobExistsAsync("team/app", digest, CancellationToken.None));

        // A push would need them: refused here, with a sentence that says why, not sent over plain HTTP.
        var ko = await FailsAsync(ct => client.UploadBlobAsync("team/app", digest, 6, _ => ValueTask.FromResult<Stream>(new MemoryStream("absent"u8.ToArray())), ct));
        Assert.Equal("KO3004", ko.Code);
        Assert.Contains("plain HTTP", ko.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{tokens.Port}", ko.Message, StringComparison.Ordinal);
        Assert.NotEmpty(tokens.Requests);
        Assert.All(tokens.Requests, r => Assert.Equal("GET anonymous", r));
    }

    [Theory]
    [InlineData("file:///etc/passwd", "file")]
    [InlineData("ftp://127.0.0.1:21/blob", "ftp")]
    [InlineData("gopher://127.0.0.1:70/x", "gopher")]
    [InlineData("http://[::1/broken", "not a valid")]
    public async Task A_blob_redirect_to_a_scheme_other_than_http_or_to_no_URL_at_all_is_KO3008_naming_the_registry(string location, string named)
    {
        await using var front = new FaultProxy(0, _ => FaultAction.Respond(307, ("Location", location)));
        using var client = new RegistryClient(front.Host, Options(null));

        var ko = await FailsAsync(ct => client.GetBlobAsync("hostile/scheme", Digest.Sha256("x"u8.ToArray()), 1, ct));
        Assert.Equal("KO3008", ko.Code);
        Assert.Contains(front.Host, ko.Message, StringComparison.Ordinal);
        Assert.Contains(named, ko.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_registry_that_never_answers_is_retried_then_KO3006_names_the_host_and_the_variable_to_raise()
    {
        await using var front = new FaultProxy(0, _ => FaultAction.Hang, TimeSpan.FromSeconds(30));
        using var client = new RegistryClient(front.Host, Options(null, new Dictionary<string, string?> { ["KO_REGISTRY_RESPONSE_TIMEOUT_MS"] = "400" }));

        var ko = await FailsAsync(ct => client.GetManifestAsync("hostile/hang", "latest", ct));
        Assert.Equal("KO3006", ko.Code);
        Assert.Contains(front.Host, ko.Message, StringComparison.Ordinal);
        Assert.Contains("KO_REGISTRY_RESPONSE_TIMEOUT_MS", ko.Message, StringComparison.Ordinal);
        Assert.Contains("tried 2 times", ko.Message, StringComparison.Ordinal);
        Assert.Equal(2, front.Records.Count(r => r.Method == "GET" && r.Path.EndsWith("/manifests/latest", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_registry_that_stops_taking_an_upload_ends_in_KO3006_after_the_idle_timeout()
    {
        await using var front = new FaultProxy(0, r => r.Method == "POST"
            ? FaultAction.Respond(202, ("Location", "/v2/hostile/stall/blobs/uploads/s1"))
            : FaultAction.Stall, TimeSpan.FromSeconds(30));
        using var client = new RegistryClient(front.Host, Options(null, new Dictionary<string, string?>
        {
            ["KO_REGISTRY_IDLE_TIMEOUT_MS"] = "500",
            ["KO_REGISTRY_RESPONSE_TIMEOUT_MS"] = "600000",
        }));

        // More than the loopback socket buffers hold, so the writes block once the server stops reading.
        var payload = new byte[64 << 20];
        var ko = await FailsAsync(ct => client.UploadBlobAsync("hostile/stall", Digest.Sha256(payload), payload.Length, _ => ValueTask.FromResult<Stream>(new MemoryStream(payload)), ct));
        Assert.Equal("KO3006", ko.Code);
        Assert.Contains(front.Host, ko.Message, StringComparison.Ordinal);
        Assert.Contains("KO_REGISTRY_IDLE_TIMEOUT_MS", ko.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_blob_that_stops_arriving_ends_in_KO3006_after_the_idle_timeout()
    {
        await using var front = new FaultProxy(0, _ => FaultAction.Trickle(200, 100, TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(30));
        using var client = new RegistryClient(front.Host, Options(null, new Dictionary<string, string?> { ["KO_REGISTRY_IDLE_TIMEOUT_MS"] = "400" }));

        var ko = await FailsAsync(async ct =>
        {
            await using var blob = await client.GetBlobAsync("hostile/trickle", Digest.Sha256("x"u8.ToArray()), 100, ct);
            await blob.CopyToAsync(Stream.Null, ct);
        });
        Assert.Equal("KO3006", ko.Code);
        Assert.Contains(front.Host, ko.Message, StringComparison.Ordinal);
        Assert.Contains("KO_REGISTRY_IDLE_TIMEOUT_MS", ko.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_trickled_a_byte_at_a_time_within_the_idle_timeout_still_ends_in_KO3006()
    {
        await using var front = new FaultProxy(0, _ => FaultAction.Trickle(200, 10_000, TimeSpan.FromMilliseconds(100), (byte)' ', ("Content-Type", "application/vnd.oci.image.manifest.v1+json")), TimeSpan.FromSeconds(30));
        using var client = new RegistryClient(front.Host, Options(null, new Dictionary<string, string?>
        {
            ["KO_REGISTRY_IDLE_TIMEOUT_MS"] = "1000",
            ["KO_REGISTRY_RESPONSE_TIMEOUT_MS"] = "1000",
        }));

        var ko = await FailsAsync(ct => client.GetManifestAsync("hostile/trickle", "latest", ct));
        Assert.Equal("KO3006", ko.Code);
        Assert.Contains(front.Host, ko.Message, StringComparison.Ordinal);
        Assert.Contains("KO_REGISTRY_RESPONSE_TIMEOUT_MS", ko.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_config_blob_trickled_within_the_idle_timeout_ends_in_KO3006_and_a_negative_size_is_refused_before_asking()
    {
        await using var front = new FaultProxy(0, _ => FaultAction.Trickle(200, 5_000, TimeSpan.FromMilliseconds(100)), TimeSpan.FromSeconds(30));
        using var client = new RegistryClient(front.Host, Options(null, new Dictionary<string, string?>
        {
            ["KO_REGISTRY_IDLE_TIMEOUT_MS"] = "1000",
            ["KO_REGISTRY_RESPONSE_TIMEOUT_MS"] = "1000",
        }));
        var digest = Digest.Sha256("x"u8.ToArray());

        var ko = await FailsAsync(ct => client.ReadSmallBlobAsync("hostile/config", digest, 5_000, 1 << 20, ct));
        Assert.Equal("KO3006", ko.Code);
        Assert.Contains(front.Host, ko.Message, StringComparison.Ordinal);
        Assert.Contains("KO_REGISTRY_RESPONSE_TIMEOUT_MS", ko.Message, StringComparison.Ordinal);

        var count = front.Records.Count;
        var negative = await FailsAsync(ct => client.ReadSmallBlobAsync("hostile/config", digest, -1, 1 << 20, ct));
        Assert.Equal("KO3003", negative.Code);
        Assert.Equal(count, front.Records.Count);
    }

    [Fact]
    public async Task A_token_service_that_never_answers_ends_in_KO3006_naming_it()
    {
        await using var tokens = new FaultProxy(0, _ => FaultAction.Hang, TimeSpan.FromSeconds(30));
        await using var front = new FaultProxy(0, _ => FaultAction.Respond(401, ("WWW-Authenticate", $"Bearer realm=\"http://{tokens.Host}/token\",service=\"s\"")));
        using var client = new RegistryClient(front.Host, Options(new SecretCredentials(front.Host, User, Password), new Dictionary<string, string?> { ["KO_REGISTRY_RESPONSE_TIMEOUT_MS"] = "400" }));

        var ko = await FailsAsync(ct => client.GetManifestAsync("hostile/token", "latest", ct));
        Assert.Equal("KO3006", ko.Code);
        Assert.Contains(tokens.Host, ko.Message, StringComparison.Ordinal);
        Assert.Contains("KO_REGISTRY_RESPONSE_TIMEOUT_MS", ko.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_service_with_an_endless_body_is_cut_off_with_KO3007_naming_it_and_the_limit()
    {
        await using var tokens = new FaultProxy(0, _ => FaultAction.Endless(200, "{\"token\":\"", ("Content-Type", "application/json")), TimeSpan.FromSeconds(8));
        await using var front = new FaultProxy(0, _ => FaultAction.Respond(401, ("WWW-Authenticate", $"Bearer realm=\"http://{tokens.Host}/token\",service=\"s\"")));
        using var client = new RegistryClient(front.Host, Options(null, new Dictionary<string, string?> { ["KO_REGISTRY_RESPONSE_TIMEOUT_MS"] = "15000" }));

        var ko = await FailsAsync(ct => client.GetManifestAsync("hostile/token", "latest", ct));
        Assert.Equal("KO3007", ko.Code);
        Assert.Contains(tokens.Host, ko.Message, StringComparison.Ordinal);
        Assert.Contains("bytes", ko.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tag_list_with_an_endless_body_is_cut_off_with_KO3007()
    {
        await using var front = new FaultProxy(0, _ => FaultAction.Endless(200, "{\"tags\":[\"", ("Content-Type", "application/json")), TimeSpan.FromSeconds(8));
        using var client = new RegistryClient(front.Host, Options(null, new Dictionary<string, string?> { ["KO_REGISTRY_RESPONSE_TIMEOUT_MS"] = "15000" }));

        var ko = await FailsAsync(ct => client.ListTagsAsync("hostile/tags", ct));
        Assert.Equal("KO3007", ko.Code);
        Assert.Contains(front.Host, ko.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_endless_error_body_is_truncated_into_the_message()
    {
        await using var front = new FaultProxy(0, _ => FaultAction.Endless(404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"", ("Content-Type", "application/json")), TimeSpan.FromSeconds(8));
        using var client = new RegistryClient(front.Host, Options(null));

        var ko = await FailsAsync(ct => client.GetManifestAsync("hostile/error", "latest", ct));
        Assert.Equal("KO3003", ko.Code);
        Assert.Contains("404", ko.Message, StringComparison.Ordinal);
        Assert.True(ko.Message.Length < 2000, ko.Message.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_build_whose_base_blobs_are_redirected_to_another_host_sends_the_config_json_secret_only_to_the_registry()
    {
        // A base image in the real registry, pushed there by ko itself.
        var src = Repo.CopyHello(_dir.Combine("hello"));
        var seed = await Repo.KoAsync(Repo.Environment(_dir.Combine("cache-seed"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = $"{_registry.Host}/seed" }), "build", "-C", src, "--platform", "linux/amd64", ".");
        Assert.True(seed.ExitCode == 0, seed.ToString());
        var baseImage = Assert.Single(seed.References);

        var deny = false;
        await using var other = new FaultProxy(_registry.Port, r => r.Target.Contains("deny=1", StringComparison.Ordinal)
            ? FaultAction.Respond(401, ("WWW-Authenticate", "Basic realm=\"storage\""))
            : FaultAction.Forward);
        await using var front = BasicFront(r => r.Method == "GET" && r.Path.Contains("/blobs/", StringComparison.Ordinal)
            ? FaultAction.Respond(307, ("Location", $"http://{other.Host}{r.Path}{(deny ? "?deny=1" : string.Empty)}"))
            : FaultAction.Forward);
        var docker = _dir.Combine("docker");
        Directory.CreateDirectory(docker);
        await File.WriteAllTextAsync(Path.Combine(docker, "config.json"), System.Text.Json.JsonSerializer.Serialize(new
        {
            auths = new Dictionary<string, object> { [front.Host] = new { auth = BasicValue } },
        }));
        Dictionary<string, string?> Env(string cache) => Repo.Environment(_dir.Combine(cache), new Dictionary<string, string?>
        {
            ["KO_DOCKER_REPO"] = $"{front.Host}/app",
            ["KO_DEFAULTBASEIMAGE"] = baseImage.Replace(_registry.Host, front.Host, StringComparison.Ordinal),
            ["DOCKER_CONFIG"] = docker,
            ["REGISTRY_AUTH_FILE"] = null,
            ["XDG_RUNTIME_DIR"] = null,
            ["KO_REGISTRY_RETRY_ATTEMPTS"] = "2",
            ["KO_REGISTRY_RETRY_INITIAL_MS"] = "10",
        });

        // Storage that serves anonymously: the build works, and the storage host never saw the secret.
        var run = await Repo.KoAsync(Env("cache-ok"), "build", "-C", src, "--platform", "linux/amd64", ".");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(other.Records, r => r.Method == "GET" && r.Path.Contains("/blobs/", StringComparison.Ordinal) && r.Status == 200);

        // Storage that asks for credentials: refused them, and the build says which host asked.
        deny = true;
        var denied = await Repo.KoAsync(Env("cache-deny"), "build", "-C", src, "--platform", "linux/amd64", ".");
        Assert.True(denied.ExitCode == 1, denied.ToString());
        Assert.Contains("KO3009", denied.Stderr, StringComparison.Ordinal);
        Assert.Contains(other.Host, denied.Stderr, StringComparison.Ordinal);
        Assert.Contains(other.Records, r => r.Target.Contains("deny=1", StringComparison.Ordinal));

        // On the wire: the registry got the secret, the other host never did, and no output shows it.
        Assert.Contains(front.Records, r => r.Headers.TryGetValue("Authorization", out var value) && value == "Basic " + BasicValue);
        AssertNoSecretReached(other);
        foreach (var output in new[] { run.Stdout, run.Stderr, denied.Stdout, denied.Stderr })
        {
            Assert.DoesNotContain(Password, output, StringComparison.Ordinal);
            Assert.DoesNotContain(BasicValue, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_registry_whose_certificate_is_not_trusted_is_a_sentence_that_says_what_to_set()
    {
        using var pki = new AuthPki(_dir.Combine("pki-untrusted"));
        await using var registry = await RegistryServer.StartAsync(pki.ServerCertFile, pki.ServerKeyFile);
        using var client = new RegistryClient(registry.Host, Options(null));

        var ko = await FailsAsync(ct => client.BlobExistsAsync("hostile/tls", Digest.Sha256("x"u8.ToArray()), ct));
        Assert.Equal("KO3002", ko.Code);
        Assert.Contains(registry.Host, ko.Message, StringComparison.Ordinal);
        Assert.Contains("TLS handshake failed", ko.Message, StringComparison.Ordinal);
        Assert.Contains("SSL_CERT_FILE", ko.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_connection_is_a_sentence_of_ours_not_the_runtimes_message()
    {
        var host = $"127.0.0.1:{RegistryFixture.FreePort()}";
        string runtimeText;
        using (var plain = new HttpClient())
        {
            var raw = await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync($"http://{host}/v2/"));
            runtimeText = raw.Message;
        }

        using var client = new RegistryClient(host, Options(null));
        var ko = await FailsAsync(ct => client.BlobExistsAsync("hostile/refused", Digest.Sha256("x"u8.ToArray()), ct));
        Assert.Equal("KO3002", ko.Code);
        Assert.Contains(host, ko.Message, StringComparison.Ordinal);
        Assert.Contains("refused", ko.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(runtimeText, ko.Message, StringComparison.Ordinal);
    }
}
