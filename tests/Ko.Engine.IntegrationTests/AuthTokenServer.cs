using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// The Docker token service, inside the test: an <see cref="HttpListener"/> on a free loopback port that checks
/// Basic credentials and issues ES256 JWTs with an <c>x5c</c> header (the signing certificate, signed by the test
/// CA) and an <c>access</c> claim granting what was asked. Records every scope requested.
/// </summary>
public sealed class AuthTokenServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly AuthPki _pki;
    private readonly string _user;
    private readonly string _password;
    private readonly Task _loop;
    private readonly CancellationTokenSource _stop = new();

    public AuthTokenServer(AuthPki pki, string user, string password)
    {
        _pki = pki;
        _user = user;
        _password = password;
        Port = RegistryFixture.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public const string Service = "ko-test-registry";

    public const string Issuer = "ko-test-issuer";

    public int Port { get; }

    public string Realm => $"http://127.0.0.1:{Port}/token";

    /// <summary>Every scope asked for, in order.</summary>
    public ConcurrentQueue<string> Scopes { get; } = new();

    /// <summary>Every token request: "GET user" / "GET anonymous" / "DENIED user".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The registry configuration that points at this server.</summary>
    public string RegistryConfig(string rootCertBundle) =>
        $"auth:\n  token:\n    realm: {Realm}\n    service: {Service}\n    issuer: {Issuer}\n    rootcertbundle: {rootCertBundle}\n";

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            try
            {
                Handle(context);
            }
            catch (Exception ex)
            {
                context.Response.StatusCode = 500;
                var bytes = Encoding.UTF8.GetBytes(ex.ToString());
                context.Response.OutputStream.Write(bytes);
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    private void Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var scopes = request.QueryString.GetValues("scope") ?? [];
        foreach (var s in scopes)
        {
            Scopes.Enqueue(s);
        }

        var auth = request.Headers["Authorization"];
        string? user = null;
        if (auth is not null && auth.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth[6..]));
            var colon = decoded.IndexOf(':');
            user = decoded[..colon];
            if (user != _user || decoded[(colon + 1)..] != _password)
            {
                Requests.Enqueue("DENIED " + user);
                context.Response.StatusCode = 401;
                return;
            }
        }

        Requests.Enqueue($"{request.HttpMethod} {user ?? "anonymous"}");
        var access = new JsonArray();
        foreach (var scope in scopes.SelectMany(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
        {
            // repository:NAME:ACTIONS, NAME may hold no colon here.
            var parts = scope.Split(':');
            if (parts.Length != 3)
            {
                continue;
            }

            var actions = user is null ? parts[2].Split(',').Where(a => a == "pull") : parts[2].Split(',');
            access.Add(new JsonObject { ["type"] = parts[0], ["name"] = parts[1], ["actions"] = new JsonArray(actions.Select(a => (JsonNode)JsonValue.Create(a)!).ToArray()) });
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new JsonObject
        {
            ["alg"] = "ES256",
            ["typ"] = "JWT",
            ["x5c"] = new JsonArray(Convert.ToBase64String(_pki.Signing.RawData)),
        };
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = user ?? string.Empty,
            ["aud"] = Service,
            ["exp"] = now + 300,
            ["nbf"] = now - 10,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access,
        };
        var signingInput = B64(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + B64(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = _pki.SigningKey.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var token = signingInput + "." + B64(signature);
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["token"] = token, ["expires_in"] = 300 });
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.OutputStream.Write(body);
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Close(); // alone: see LoopbackHttpFake.Dispose
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
        }

        _stop.Dispose();
    }
}
