using System.Text;
using Ko.Engine.Registry;
using Ko.Engine.Registry.Auth;
using Ko.Engine.Registry.Credentials;

namespace Ko.Engine.Tests;

public sealed class AuthTests
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void A_Basic_challenge_parses_its_realm()
    {
        var c = Assert.Single(AuthChallenge.Parse("Basic realm=\"Registry Realm\""));
        Assert.True(c.IsBasic);
        Assert.Equal("Registry Realm", c.Realm);
    }

    [Fact]
    public void A_Bearer_challenge_keeps_commas_and_escapes_inside_quoted_values()
    {
        var c = Assert.Single(AuthChallenge.Parse("Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\",scope=\"repository:team/app:pull,push\",error=\"a \\\"quoted\\\" word\""));
        Assert.True(c.IsBearer);
        Assert.Equal("https://auth.example.com/token", c.Realm);
        Assert.Equal("registry.example.com", c.Service);
        Assert.Equal("repository:team/app:pull,push", c.Scope);
        Assert.Equal("a \"quoted\" word", c.Get("error"));
    }

    [Fact]
    public void Several_challenges_in_one_header_and_unquoted_values_are_all_read()
    {
        var all = AuthChallenge.Parse("Bearer realm=https://auth.example/token, service=reg , scope=\"repository:a:pull repository:b:pull\", Basic realm=\"x, y\"");
        Assert.Equal(2, all.Count);
        Assert.Equal("https://auth.example/token", all[0].Realm);
        Assert.Equal("reg", all[0].Service);
        Assert.Equal("repository:a:pull repository:b:pull", all[0].Scope);
        Assert.True(all[1].IsBasic);
        Assert.Equal("x, y", all[1].Realm);
    }

    [Fact]
    public void Scheme_names_are_case_insensitive_and_garbage_does_not_hang()
    {
        Assert.True(Assert.Single(AuthChallenge.Parse("bearer realm=\"r\"")).IsBearer);
        Assert.NotNull(AuthChallenge.Parse("=,,\"\" ; Basic"));
        Assert.Empty(AuthChallenge.Parse(string.Empty));
    }

    [Fact]
    public void The_challenges_of_a_response_come_from_every_WWW_Authenticate_header()
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.Unauthorized);
        response.Headers.TryAddWithoutValidation("WWW-Authenticate", "Bearer realm=\"https://a/token\",service=\"s\",scope=\"repository:x:pull,push\"");
        response.Headers.TryAddWithoutValidation("WWW-Authenticate", "Basic realm=\"b\"");
        var all = AuthChallenge.FromResponse(response);
        Assert.Equal(["Bearer", "Basic"], all.Select(c => c.Scheme));
        Assert.Equal("repository:x:pull,push", all[0].Scope);
    }

    [Theory]
    [InlineData("GET", "https://r/v2/team/app/manifests/latest", "repository:team/app:pull")]
    [InlineData("HEAD", "https://r/v2/a/b/c/blobs/sha256:00", "repository:a/b/c:pull")]
    [InlineData("POST", "https://r/v2/team/app/blobs/uploads/", "repository:team/app:pull,push")]
    [InlineData("PUT", "https://r/v2/team/app/manifests/v1", "repository:team/app:pull,push")]
    [InlineData("GET", "https://r/v2/team/app/tags/list", "repository:team/app:pull")]
    [InlineData("POST", "https://r/v2/team/app/blobs/uploads/?mount=sha256:00&from=base/img", "repository:team/app:pull,push repository:base/img:pull")]
    [InlineData("GET", "https://r/v2/", "")]
    public void A_request_needs_the_scope_its_method_and_path_say(string method, string url, string expected)
    {
        Assert.Equal(expected, string.Join(' ', RegistryScope.ForRequest(new HttpMethod(method), new Uri(url))));
    }

    [Fact]
    public void Scopes_merge_once_and_push_covers_pull()
    {
        Assert.Equal(["repository:a:pull,push", "repository:b:pull"], RegistryScope.Merge("repository:a:pull", ["repository:a:pull,push", "repository:b:pull"]));
        Assert.Equal(["repository:a:pull"], RegistryScope.Merge("repository:a:pull", ["repository:a:pull"]));
    }

    [Fact]
    public void Token_responses_give_token_or_access_token_and_a_lifetime_of_at_least_a_minute()
    {
        Assert.Equal(("t1", TimeSpan.FromSeconds(300)), TokenClient.ParseTokenResponse("{\"token\":\"t1\",\"expires_in\":300}"));
        Assert.Equal(("t2", TimeSpan.FromSeconds(60)), TokenClient.ParseTokenResponse("{\"access_token\":\"t2\",\"expires_in\":5}"));
        Assert.Equal(("t3", TimeSpan.FromSeconds(60)), TokenClient.ParseTokenResponse("{\"access_token\":\"t3\"}"));
        Assert.Null(TokenClient.ParseTokenResponse("{}"));
        Assert.Null(TokenClient.ParseTokenResponse("not json"));
    }

    [Fact]
    public void Config_json_entries_with_auth_username_password_and_identitytoken_are_read_and_URL_keys_match_by_host()
    {
        var config = DockerConfig.Parse($$"""
            {
              "auths": {
                "reg.example.com": { "auth": "{{B64("alice:pa:ss")}}" },
                "https://other.example:5000/v2/": { "username": "bob", "password": "pw" },
                "https://index.docker.io/v1/": { "auth": "{{B64("hub:hubpw")}}" },
                "oauth.example": { "auth": "{{B64("<token>:")}}", "identitytoken": "refresh-me" },
                "broken.example": { "auth": "%%%" },
                "empty.example": {}
              },
              "credHelpers": { "gcr.example": "gcloud" },
              "credsStore": "desktop"
            }
            """, "config.json");
        Assert.Equal(new RegistryCredential("alice", "pa:ss"), config.AuthFor("reg.example.com"));
        Assert.Equal(new RegistryCredential("alice", "pa:ss"), config.AuthFor("REG.example.com"));
        Assert.Equal(new RegistryCredential("bob", "pw"), config.AuthFor("other.example:5000"));
        Assert.Null(config.AuthFor("other.example"));
        Assert.Equal(new RegistryCredential("hub", "hubpw"), config.AuthFor("registry-1.docker.io"));
        Assert.Equal(new RegistryCredential("hub", "hubpw"), config.AuthFor("docker.io"));
        Assert.Equal("refresh-me", config.AuthFor("oauth.example")!.IdentityToken);
        Assert.Null(config.AuthFor("broken.example"));
        Assert.Null(config.AuthFor("empty.example"));
        Assert.Equal("gcloud", config.HelperFor("gcr.example"));
        Assert.Null(config.HelperFor("reg.example.com"));
        Assert.Equal("desktop", config.CredsStore);
    }

    [Fact]
    public void Malformed_config_json_is_an_error_naming_the_file()
    {
        var ex = Assert.Throws<KoException>(() => DockerConfig.Parse("{ not json", "/x/config.json"));
        Assert.Equal(KoErrorCodes.AuthenticationFailed, ex.Code);
        Assert.Contains("/x/config.json", ex.Message);
    }

    [Fact]
    public void A_credential_never_prints_its_secrets()
    {
        var text = new RegistryCredential("alice", "hunter2-secret", "refresh-token-xyz").ToString();
        Assert.Contains("alice", text);
        Assert.DoesNotContain("hunter2-secret", text);
        Assert.DoesNotContain("refresh-token-xyz", text);
    }

    [Fact]
    public void Rejection_messages_name_host_and_user_but_not_the_password()
    {
        var ex = AuthHandler.Rejected("reg.example:5000", new RegistryCredential("alice", "hunter2-secret"), "401");
        Assert.Equal(KoErrorCodes.AuthenticationFailed, ex.Code);
        Assert.Contains("reg.example:5000", ex.Message);
        Assert.Contains("alice", ex.Message);
        Assert.Contains("dotnet ko login", ex.Message);
        Assert.DoesNotContain("hunter2-secret", ex.ToString());
    }

    [Fact]
    public async Task Credentials_come_from_DOCKER_CONFIG_then_REGISTRY_AUTH_FILE_using_only_the_given_environment()
    {
        using var dir = new TempDir();
        dir.WriteFile("docker/config.json", $$"""{ "auths": { "a.example": { "auth": "{{B64("ua:pa")}}" } } }""");
        var authFile = dir.WriteFile("podman/auth.json", $$"""{ "auths": { "b.example": { "auth": "{{B64("ub:pb")}}" }, "a.example": { "auth": "{{B64("no:no")}}" } } }""");
        dir.WriteFile("home/.config/containers/auth.json", $$"""{ "auths": { "c.example": { "auth": "{{B64("uc:pc")}}" } } }""");
        var env = new Dictionary<string, string?>
        {
            ["DOCKER_CONFIG"] = dir.Combine("docker"),
            ["REGISTRY_AUTH_FILE"] = authFile,
            ["HOME"] = dir.Combine("home"),
            ["PATH"] = string.Empty,
        };
        var creds = new DockerCredentials(env);
        Assert.Equal(new RegistryCredential("ua", "pa"), await creds.GetAsync("a.example", default));
        Assert.Equal(new RegistryCredential("ub", "pb"), await creds.GetAsync("b.example", default));
        Assert.Equal(new RegistryCredential("uc", "pc"), await creds.GetAsync("c.example", default));
        Assert.Null(await creds.GetAsync("d.example", default));
    }

    [Fact]
    public async Task A_credential_helper_that_is_not_on_the_given_PATH_is_a_clear_error()
    {
        using var dir = new TempDir();
        dir.WriteFile("docker/config.json", """{ "credHelpers": { "a.example": "nosuchhelper" } }""");
        var creds = new DockerCredentials(new Dictionary<string, string?> { ["DOCKER_CONFIG"] = dir.Combine("docker"), ["PATH"] = dir.Path });
        var ex = await Assert.ThrowsAsync<KoException>(async () => await creds.GetAsync("a.example", default));
        Assert.Contains("docker-credential-nosuchhelper", ex.Message);
    }

    // DOCKER_CONFIG or REGISTRY_AUTH_FILE may point into a checked-out repository: a FIFO there blocked the first
    // authenticated request for ever, and a link to /dev/zero read until the process ran out of memory.
    [Fact]
    public async Task A_config_json_that_is_a_FIFO_or_endless_is_KO3004_not_a_hang()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Combine("fifo"));
        TestUtil.Run("mkfifo", dir.Combine("fifo", "config.json"));
        Directory.CreateDirectory(dir.Combine("zero"));
        File.CreateSymbolicLink(dir.Combine("zero", "config.json"), "/dev/zero");

        foreach (var config in new[] { "fifo", "zero" })
        {
            var creds = new DockerCredentials(new Dictionary<string, string?> { ["DOCKER_CONFIG"] = dir.Combine(config), ["PATH"] = dir.Path });
            var lookup = Task.Run(async () => await creds.GetAsync("a.example", default));
            var finished = await Task.WhenAny(lookup, Task.Delay(TimeSpan.FromSeconds(10)));
            if (finished != lookup && config == "fifo")
            {
                await using var unblock = new FileStream(dir.Combine("fifo", "config.json"), FileMode.Open, FileAccess.Write);
            }

            Assert.Same(lookup, finished);
            var ex = await Assert.ThrowsAsync<KoException>(() => lookup);
            Assert.Equal(KoErrorCodes.AuthenticationFailed, ex.Code);
            Assert.Contains(dir.Combine(config, "config.json"), ex.Message);
        }
    }

    [Fact]
    public async Task Login_storing_into_a_config_json_that_is_a_FIFO_or_endless_is_KO3004_not_a_hang()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Combine("fifo"));
        TestUtil.Run("mkfifo", dir.Combine("fifo", "config.json"));
        Directory.CreateDirectory(dir.Combine("zero"));
        File.CreateSymbolicLink(dir.Combine("zero", "config.json"), "/dev/zero");

        foreach (var config in new[] { "fifo", "zero" })
        {
            var env = new Dictionary<string, string?> { ["DOCKER_CONFIG"] = dir.Combine(config), ["PATH"] = dir.Path };
            var store = Task.Run(async () => await RegistryLogin.StoreAsync("a.example", "ci", "s3cret", env, default));
            var finished = await Task.WhenAny(store, Task.Delay(TimeSpan.FromSeconds(10)));
            if (finished != store && config == "fifo")
            {
                await using var unblock = new FileStream(dir.Combine("fifo", "config.json"), FileMode.Open, FileAccess.Write);
            }

            Assert.Same(store, finished);
            var ex = await Assert.ThrowsAsync<KoException>(() => store);
            Assert.Equal(KoErrorCodes.AuthenticationFailed, ex.Code);
            Assert.Contains(dir.Combine(config, "config.json"), ex.Message);
        }
    }

    [Theory]
    [InlineData("reg.example:5000", "reg.example:5000")]
    [InlineData("https://reg.example/", "reg.example")]
    [InlineData("docker.io", "https://index.docker.io/v1/")]
    public void Login_keys_follow_docker(string registry, string key) => Assert.Equal(key, RegistryLogin.ConfigKey(registry));

    [Fact]
    public void SSL_CERT_FILE_and_SSL_CERT_DIR_from_the_given_environment_are_loaded()
    {
        using var dir = new TempDir();
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=t", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var file = dir.WriteFile("ca.pem", cert.ExportCertificatePem());
        dir.WriteFile("certs/one.pem", cert.ExportCertificatePem());
        dir.WriteFile("certs/junk.txt", "not a cert");
        Assert.Single(RegistryTransport.LoadCustomRoots(new Dictionary<string, string?> { ["SSL_CERT_FILE"] = file }));
        Assert.Single(RegistryTransport.LoadCustomRoots(new Dictionary<string, string?> { ["SSL_CERT_DIR"] = dir.Combine("certs") }));
        Assert.Empty(RegistryTransport.LoadCustomRoots(new Dictionary<string, string?>()));
    }

    [Fact]
    public void Login_edits_a_config_json_with_a_key_written_twice_keeping_the_last()
    {
        var root = RegistryLogin.ParseConfigObject("""{ "auths": { "a.example": { "auth": "b2xkOm9sZA==" } }, "credsStore": "one", "credsStore": "two" }""", "/x/config.json");
        Assert.Equal("two", (string?)root["credsStore"]);
        Assert.Equal("b2xkOm9sZA==", (string?)root["auths"]!["a.example"]!["auth"]);
    }

    [Fact]
    public void Login_reports_a_broken_config_json_by_position_without_quoting_it()
    {
        const string secret = "tS3cretPassw0rd";
        var ex = Assert.Throws<KoException>(() => RegistryLogin.ParseConfigObject("{\"auths\":{\"r\":{\"password\":" + secret + "\"}}}", "/x/config.json"));
        Assert.Equal(KoErrorCodes.AuthenticationFailed, ex.Code);
        Assert.Contains("/x/config.json", ex.Message);
        Assert.Contains("line 1", ex.Message);
        Assert.DoesNotContain(secret, ex.ToString());
    }
}
