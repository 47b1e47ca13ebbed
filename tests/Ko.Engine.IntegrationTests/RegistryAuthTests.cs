using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ko.Cli;
using Ko.Engine.Publishing;

namespace Ko.Engine.IntegrationTests;

/// <summary>A real docker-registry over TLS (a CA made by the test) with htpasswd auth, shared by a test class.</summary>
public sealed class AuthHtpasswdRegistryFixture : IAsyncLifetime
{
    public const string User = "kouser";
    public const string Password = "S3cret-pa55word";

    private readonly TempDir _dir = new("ko-authpki");

    public AuthPki Pki { get; private set; } = null!;

    public RegistryServer Registry { get; private set; } = null!;

    public string Host => Registry.Host;

    public async Task InitializeAsync()
    {
        Pki = new AuthPki(_dir.Combine("pki"));
        var line = (await Tools.RunAsync("htpasswd", ["-Bbn", User, Password])).StandardOutput.Trim();
        var htpasswd = _dir.Combine("htpasswd");
        await File.WriteAllTextAsync(htpasswd, line + "\n");
        Registry = await RegistryServer.StartAsync(Pki.ServerCertFile, Pki.ServerKeyFile, $"auth:\n  htpasswd:\n    realm: ko-test\n    path: {htpasswd}\n");
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        Pki.Dispose();
        _dir.Dispose();
    }
}

/// <summary>
/// Authentication against real registries: htpasswd over TLS with config.json, a credential helper and a wrong
/// password; token auth against a token server in the test; <c>dotnet ko login</c>.
/// </summary>
public sealed class RegistryAuthTests : IClassFixture<AuthHtpasswdRegistryFixture>, IDisposable
{
    private readonly AuthHtpasswdRegistryFixture _fx;
    private readonly TempDir _dir = new("ko-auth");
    private readonly string _src;

    public RegistryAuthTests(AuthHtpasswdRegistryFixture fx)
    {
        _fx = fx;
        _src = Repo.CopyHello(_dir.Combine("hello"));
    }

    public void Dispose() => _dir.Dispose();

    private static string Basic(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    private string DockerConfig(object config)
    {
        var dir = _dir.Combine("docker-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(config));
        return dir;
    }

    private Dictionary<string, string?> Env(string repository, string dockerConfig, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?>
        {
            ["KO_DOCKER_REPO"] = repository,
            ["DOCKER_CONFIG"] = dockerConfig,
            ["SSL_CERT_FILE"] = _fx.Pki.CaFile,
            ["REGISTRY_AUTH_FILE"] = null,
            ["XDG_RUNTIME_DIR"] = null,
        });
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            env[k] = v;
        }

        return env;
    }

    private async Task<string> PushAsync(Dictionary<string, string?> env)
    {
        var run = await Repo.KoAsync(env, "build", "-C", _src, "--platform", "linux/amd64", ".");
        Assert.True(run.ExitCode == 0, run.ToString());
        return Assert.Single(run.References);
    }

    /// <summary>skopeo reads the manifest over TLS (trusting the test CA) with the credentials; its bytes hash to the digest.</summary>
    private async Task AssertSkopeoSeesAsync(string reference, string user, string password)
    {
        var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", "--cert-dir", _fx.Pki.CertDir, "--creds", $"{user}:{password}", $"docker://{reference}"]);
        var digest = reference[(reference.IndexOf('@') + 1)..];
        Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(raw.StandardOutput))));
    }

    [Fact]
    public async Task Htpasswd_over_TLS_with_config_json_credentials_pushes_an_image_skopeo_reads()
    {
        var config = DockerConfig(new { auths = new Dictionary<string, object> { [_fx.Host] = new { auth = Basic(AuthHtpasswdRegistryFixture.User, AuthHtpasswdRegistryFixture.Password) } } });
        var reference = await PushAsync(Env($"{_fx.Host}/team", config));
        Assert.StartsWith($"{_fx.Host}/team/hello-{Naming.Md5Hex("example.com/hello")}@sha256:", reference);
        await AssertSkopeoSeesAsync(reference, AuthHtpasswdRegistryFixture.User, AuthHtpasswdRegistryFixture.Password);
    }

    [Fact]
    public async Task A_config_key_written_as_a_URL_with_username_and_password_fields_matches_the_host()
    {
        var config = DockerConfig(new { auths = new Dictionary<string, object> { [$"https://{_fx.Host}/v2/"] = new { username = AuthHtpasswdRegistryFixture.User, password = AuthHtpasswdRegistryFixture.Password } } });
        var reference = await PushAsync(Env($"{_fx.Host}/urlkey", config));
        await AssertSkopeoSeesAsync(reference, AuthHtpasswdRegistryFixture.User, AuthHtpasswdRegistryFixture.Password);
    }

    [Fact]
    public async Task A_credential_helper_named_in_credHelpers_and_found_on_PATH_supplies_the_credentials()
    {
        var bin = _dir.Combine("bin");
        Directory.CreateDirectory(bin);
        var asked = _dir.Combine("helper-asked");
        var helper = Path.Combine(bin, "docker-credential-kotest");
        await File.WriteAllTextAsync(helper, $$"""
            #!/bin/sh
            [ "$1" = get ] || exit 1
            read server
            printf '%s\n' "$server" >> '{{asked}}'
            printf '{"ServerURL":"%s","Username":"{{AuthHtpasswdRegistryFixture.User}}","Secret":"{{AuthHtpasswdRegistryFixture.Password}}"}' "$server"
            """.Replace("\r", string.Empty));
        File.SetUnixFileMode(helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var config = DockerConfig(new { credHelpers = new Dictionary<string, string> { [_fx.Host] = "kotest" } });
        var env = Env($"{_fx.Host}/helper", config);
        env["PATH"] = bin + ":" + env["PATH"];

        var reference = await PushAsync(env);
        await AssertSkopeoSeesAsync(reference, AuthHtpasswdRegistryFixture.User, AuthHtpasswdRegistryFixture.Password);

        // Asked once for this host in the whole run (cached per host).
        Assert.Equal([_fx.Host], (await File.ReadAllLinesAsync(asked)).Where(l => l.Length > 0));
    }

    [Fact]
    public async Task A_wrong_password_fails_with_KO3004_naming_the_registry_and_never_the_password()
    {
        const string wrong = "Wr0ng-Pa55-ZQX";
        var config = DockerConfig(new { auths = new Dictionary<string, object> { [_fx.Host] = new { auth = Basic(AuthHtpasswdRegistryFixture.User, wrong) } } });
        var run = await Repo.KoAsync(Env($"{_fx.Host}/wrong", config), "build", "-C", _src, "--platform", "linux/amd64", ".");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("KO3004", run.Stderr);
        Assert.Contains(_fx.Host, run.Stderr);
        Assert.Contains(AuthHtpasswdRegistryFixture.User, run.Stderr);
        Assert.Contains("dotnet ko login", run.Stderr);
        Assert.DoesNotContain(wrong, run.Stderr + run.Stdout);
        Assert.DoesNotContain(Basic(AuthHtpasswdRegistryFixture.User, wrong), run.Stderr + run.Stdout);
        Assert.Equal(string.Empty, run.Stdout);
    }

    [Fact]
    public async Task No_credentials_at_all_fails_with_KO3004_saying_to_log_in()
    {
        var run = await Repo.KoAsync(Env($"{_fx.Host}/anon", DockerConfig(new { })), "build", "-C", _src, "--platform", "linux/amd64", ".");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("KO3004", run.Stderr);
        Assert.Contains(_fx.Host, run.Stderr);
        Assert.Contains("dotnet ko login", run.Stderr);
    }

    [Fact]
    public async Task Without_the_CA_in_SSL_CERT_FILE_the_TLS_registry_is_refused_and_never_spoken_to_in_plain_HTTP()
    {
        var config = DockerConfig(new { auths = new Dictionary<string, object> { [_fx.Host] = new { auth = Basic(AuthHtpasswdRegistryFixture.User, AuthHtpasswdRegistryFixture.Password) } } });
        var env = Env($"{_fx.Host}/untrusted", config);
        env.Remove("SSL_CERT_FILE");
        env.Remove("SSL_CERT_DIR");
        var run = await Repo.KoAsync(env, "build", "-C", _src, "--platform", "linux/amd64", ".");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains(_fx.Host, run.Stderr);
        Assert.DoesNotContain("HTTP request to an HTTPS server", run.Stderr);
    }

    [Fact]
    public async Task Login_verifies_writes_config_json_like_docker_keeping_other_keys_and_a_later_push_uses_it()
    {
        var dockerDir = _dir.Combine("fresh", "docker");
        var env = Env($"{_fx.Host}/login", dockerDir);

        // A wrong password: nothing is written.
        var bad = await LoginAsync(env, "not-the-password");
        Assert.True(bad.ExitCode == 1, bad.ToString());
        Assert.Contains("KO3004", bad.Stderr);
        Assert.DoesNotContain("not-the-password", bad.Stderr + bad.Stdout);
        Assert.False(File.Exists(Path.Combine(dockerDir, "config.json")));

        var ok = await LoginAsync(env, AuthHtpasswdRegistryFixture.Password);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Equal("Login Succeeded", ok.Stdout.Trim());
        var path = Path.Combine(dockerDir, "config.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dockerDir));
        using (var doc = JsonDocument.Parse(await File.ReadAllTextAsync(path)))
        {
            var auth = doc.RootElement.GetProperty("auths").GetProperty(_fx.Host).GetProperty("auth").GetString();
            Assert.Equal(Basic(AuthHtpasswdRegistryFixture.User, AuthHtpasswdRegistryFixture.Password), auth);
        }

        var reference = await PushAsync(env);
        await AssertSkopeoSeesAsync(reference, AuthHtpasswdRegistryFixture.User, AuthHtpasswdRegistryFixture.Password);

        // An existing config.json keeps every other key and entry.
        var existing = DockerConfig(new Dictionary<string, object>
        {
            ["auths"] = new Dictionary<string, object> { ["other.example:5000"] = new { auth = Basic("a", "b") } },
            ["psFormat"] = "table {{.ID}}",
            ["proxies"] = new { @default = new { httpProxy = "http://proxy.example:3128" } },
        });
        var again = await LoginAsync(Env($"{_fx.Host}/login", existing), AuthHtpasswdRegistryFixture.Password, passwordFlag: true);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("--password via the CLI is insecure", again.Stderr);
        using (var doc = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(existing, "config.json"))))
        {
            var root = doc.RootElement;
            Assert.Equal("table {{.ID}}", root.GetProperty("psFormat").GetString());
            Assert.Equal("http://proxy.example:3128", root.GetProperty("proxies").GetProperty("default").GetProperty("httpProxy").GetString());
            Assert.Equal(Basic("a", "b"), root.GetProperty("auths").GetProperty("other.example:5000").GetProperty("auth").GetString());
            Assert.Equal(Basic(AuthHtpasswdRegistryFixture.User, AuthHtpasswdRegistryFixture.Password), root.GetProperty("auths").GetProperty(_fx.Host).GetProperty("auth").GetString());
        }
    }

    [Fact]
    public async Task Login_stores_into_the_credsStore_helper_when_config_json_names_one()
    {
        var bin = _dir.Combine("store-bin");
        Directory.CreateDirectory(bin);
        var stored = _dir.Combine("stored.json");
        var helper = Path.Combine(bin, "docker-credential-kostore");
        await File.WriteAllTextAsync(helper, $"#!/bin/sh\n[ \"$1\" = store ] || exit 1\ncat > '{stored}'\n");
        File.SetUnixFileMode(helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var config = DockerConfig(new { credsStore = "kostore" });
        var env = Env($"{_fx.Host}/store", config);
        env["PATH"] = bin + ":" + env["PATH"];

        var run = await LoginAsync(env, AuthHtpasswdRegistryFixture.Password);
        Assert.True(run.ExitCode == 0, run.ToString());
        using (var doc = JsonDocument.Parse(await File.ReadAllTextAsync(stored)))
        {
            Assert.Equal(_fx.Host, doc.RootElement.GetProperty("ServerURL").GetString());
            Assert.Equal(AuthHtpasswdRegistryFixture.User, doc.RootElement.GetProperty("Username").GetString());
            Assert.Equal(AuthHtpasswdRegistryFixture.Password, doc.RootElement.GetProperty("Secret").GetString());
        }

        var text = await File.ReadAllTextAsync(Path.Combine(config, "config.json"));
        Assert.DoesNotContain(Basic(AuthHtpasswdRegistryFixture.User, AuthHtpasswdRegistryFixture.Password), text);
        Assert.Contains("kostore", text);
    }

    private async Task<Repo.KoRun> LoginAsync(IReadOnlyDictionary<string, string?> env, string password, bool passwordFlag = false)
    {
        if (passwordFlag)
        {
            return await Repo.KoAsync(env, "login", _fx.Host, "-u", AuthHtpasswdRegistryFixture.User, "-p", password);
        }

        LoginCommand.Input = new StringReader(password + "\n");
        try
        {
            return await Repo.KoAsync(env, "login", _fx.Host, "-u", AuthHtpasswdRegistryFixture.User, "--password-stdin");
        }
        finally
        {
            LoginCommand.Input = null;
        }
    }
}

/// <summary>Token auth: the registry trusts JWTs from a token server inside the test (x5c chain to the test CA).</summary>
public sealed class RegistryTokenAuthTests : IDisposable
{
    private const string User = "tokenuser";
    private const string Password = "t0ken-Pa55";

    private readonly TempDir _dir = new("ko-tokenauth");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_push_through_the_token_flow_asks_for_pull_push_on_the_repository_and_skopeo_sees_the_image()
    {
        using var pki = new AuthPki(_dir.Combine("pki"));
        await using var tokens = new AuthTokenServer(pki, User, Password);
        await using var registry = await RegistryServer.StartAsync(null, null, tokens.RegistryConfig(pki.CaFile));
        var src = Repo.CopyHello(_dir.Combine("hello"));
        var dockerDir = _dir.Combine("docker");
        Directory.CreateDirectory(dockerDir);
        await File.WriteAllTextAsync(Path.Combine(dockerDir, "config.json"), JsonSerializer.Serialize(new
        {
            auths = new Dictionary<string, object> { [registry.Host] = new { auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")) } },
        }));
        var env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?>
        {
            ["KO_DOCKER_REPO"] = $"{registry.Host}/team",
            ["DOCKER_CONFIG"] = dockerDir,
            ["REGISTRY_AUTH_FILE"] = null,
            ["XDG_RUNTIME_DIR"] = null,
        });

        var run = await Repo.KoAsync(env, "build", "-C", src, "--platform", "linux/amd64,linux/arm64", ".");
        Assert.True(run.ExitCode == 0, run.ToString() + "\ntoken requests: " + string.Join(", ", tokens.Requests));
        var reference = Assert.Single(run.References);
        var repository = $"team/hello-{Naming.Md5Hex("example.com/hello")}";
        Assert.StartsWith($"{registry.Host}/{repository}@sha256:", reference);
        Assert.Contains($"repository:{repository}:pull,push", tokens.Scopes);
        Assert.All(tokens.Requests, r => Assert.Equal($"GET {User}", r));

        // Tokens are cached by scope: far fewer token requests than registry requests (two platforms, ~10 blobs).
        Assert.True(tokens.Requests.Count is >= 1 and <= 4, "token requests for scopes: " + string.Join(" | ", tokens.Scopes));

        var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", "--creds", $"{User}:{Password}", $"docker://{reference}"]);
        Assert.Equal(reference[(reference.IndexOf('@') + 1)..], "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(raw.StandardOutput))));

        // The wrong password is refused by the token service: KO3004, and the secret appears nowhere.
        await File.WriteAllTextAsync(Path.Combine(dockerDir, "config.json"), JsonSerializer.Serialize(new
        {
            auths = new Dictionary<string, object> { [registry.Host] = new { username = User, password = "bad-Pa55-XYZ" } },
        }));
        var bad = await Repo.KoAsync(env, "build", "-C", src, "--platform", "linux/amd64", "-t", "other", ".");
        Assert.True(bad.ExitCode == 1, bad.ToString());
        Assert.Contains("KO3004", bad.Stderr);
        Assert.Contains(registry.Host, bad.Stderr);
        Assert.DoesNotContain("bad-Pa55-XYZ", bad.Stderr + bad.Stdout);
    }
}
