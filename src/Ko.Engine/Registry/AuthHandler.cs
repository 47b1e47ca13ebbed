using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Ko.Engine.Registry.Auth;

namespace Ko.Engine.Registry;

/// <summary>
/// Answers registry challenges. On a 401 it reads <c>WWW-Authenticate</c>, takes the host's credential from
/// <see cref="RegistryOptions.Credentials"/> and sends the request once more: with Basic, or with a Bearer token
/// from the challenge's realm for the challenge's scope plus the scope the request needs (pull for GET/HEAD,
/// pull,push otherwise). Tokens are cached by (realm, service, scopes) and attached up front to later requests that
/// need the same scopes; a 401 despite a cached token fetches a fresh one, once. Credentials that are still refused
/// end in <see cref="KoErrorCodes.AuthenticationFailed"/>, naming the host and the user, never the secret.
/// <para>
/// Credentials are bound to the registry they were configured for. They are attached, and challenges answered, only
/// for requests to the registry's own origin (its host and port, never downgraded from HTTPS to HTTP); any other host
/// (a redirect's or an upload location's) is spoken to anonymously and its 401 is returned as it is. A Bearer
/// challenge from the registry itself names the token service that gets the credentials, as docker does, on any
/// host, but never over plain HTTP when the registry speaks HTTPS: then the token is asked for anonymously.
/// </para>
/// </summary>
internal sealed class AuthHandler(string host, RegistryOptions options) : DelegatingHandler
{
    private readonly Uri _origin = RegistryTransport.BaseAddress(host, options);

    private readonly Lazy<TokenClient> _tokens = new(() => new TokenClient(options), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly SemaphoreSlim _credentialGate = new(1, 1);
    private volatile AuthChallenge? _challenge;
    private RegistryCredential? _credential;
    private volatile bool _credentialLoaded;

    internal string Host { get; } = host;

    internal RegistryOptions Options { get; } = options;

    /// <summary>The Basic header for a credential with a user name and password, else null.</summary>
    internal static AuthenticationHeaderValue? Basic(RegistryCredential? credential) =>
        credential is { Username: { Length: > 0 } user, Password: { } password } && credential.IdentityToken is null
            ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")))
            : null;

    /// <summary>The error for refused credentials (or none at all), naming the host and user only.</summary>
    internal static KoException Rejected(string registryHost, RegistryCredential? credential, string what)
    {
        var login = $"Run `dotnet ko login {registryHost} -u USER --password-stdin` (or `docker login {registryHost}`)";
        if (credential is null)
        {
            return new KoException(
                KoErrorCodes.AuthenticationFailed,
                $"registry {registryHost} requires authentication ({what}) and no credentials for it were found in DOCKER_CONFIG/~/.docker/config.json, its credential helpers, REGISTRY_AUTH_FILE or podman's auth.json. {login}.");
        }

        var who = credential.IdentityToken is not null
            ? $"the stored identity token{(credential.Username is { Length: > 0 } u && u != "<token>" ? $" of user '{u}'" : string.Empty)}"
            : $"user '{credential.Username}'";
        return new KoException(
            KoErrorCodes.AuthenticationFailed,
            $"registry {registryHost} refused the credentials of {who} ({what}). {login} with the right password or token.");
    }

    /// <summary>
    /// True when <paramref name="uri"/> is the registry's own origin: the same host and port, and not plain HTTP for a
    /// registry spoken to over HTTPS.
    /// </summary>
    internal bool IsRegistry(Uri uri) =>
        string.Equals(uri.IdnHost, _origin.IdnHost, StringComparison.OrdinalIgnoreCase)
        && uri.Port == _origin.Port
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && _origin.Scheme == Uri.UriSchemeHttp));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri!;
        if (!IsRegistry(uri))
        {
            // Another host: anonymous, whatever it answers.
            request.Headers.Authorization = null;
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var scopes = RegistryScope.ForRequest(request.Method, uri);
        await AttachKnownAsync(request, scopes, cancellationToken).ConfigureAwait(false);

        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized || !CanResend(request.Content))
        {
            return response;
        }

        var challenges = AuthChallenge.FromResponse(response);
        var challenge = challenges.FirstOrDefault(c => c.IsBearer && c.Realm is not null) ?? challenges.FirstOrDefault(c => c.IsBasic);
        if (challenge is null)
        {
            return response;
        }

        _challenge = challenge;
        var credential = await GetCredentialAsync(cancellationToken).ConfigureAwait(false);
        string? withheld = null;
        if (challenge.IsBasic)
        {
            var basic = Basic(credential);
            if (basic is null)
            {
                response.Dispose();
                throw Rejected(Host, credential, "it answered 401 with a Basic challenge");
            }

            request.Headers.Authorization = basic;
        }
        else
        {
            var all = RegistryScope.Merge(challenge.Scope, scopes);
            var refused = request.Headers.Authorization is { Scheme: "Bearer" } sent ? sent.Parameter : null;
            if (credential is not null && Downgrade(request.RequestUri!, challenge.Realm) is { } realm)
            {
                withheld = realm;
                credential = null;
            }

            var token = await _tokens.Value.GetAsync(challenge, all, refused, credential, Host, cancellationToken).ConfigureAwait(false);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        response.Dispose();
        var retried = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (retried.StatusCode == HttpStatusCode.Unauthorized && !RegistryScope.IsMount(uri))
        {
            retried.Dispose();
            var what = $"{request.Method} {uri.AbsolutePath} answered 401 Unauthorized after authenticating";
            throw withheld is null ? Rejected(Host, credential, what) : PlainHttpRealm(Host, withheld, what);
        }

        return retried;
    }

    /// <summary>The realm's authority when it is plain HTTP while the registry answered over HTTPS, else null.</summary>
    internal static string? Downgrade(Uri registry, string? realm) =>
        registry.Scheme == Uri.UriSchemeHttps && Util.SafeUri.TryCreate(realm, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp
            ? uri.Authority
            : null;

    /// <summary>The error when the credentials were withheld from a plain-HTTP token service and the registry then refused.</summary>
    internal static KoException PlainHttpRealm(string registryHost, string realm, string what) => new(
        KoErrorCodes.AuthenticationFailed,
        $"registry {registryHost} requires authentication ({what}), but its token service {realm} is plain HTTP while the registry speaks HTTPS, and ko does not send credentials over plain HTTP. Ask the registry's operator to serve the token realm over https://.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (_tokens.IsValueCreated)
            {
                _tokens.Value.Dispose();
            }

            _credentialGate.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>
    /// A request that carries a body can go out twice only when the body can be produced again: no body, bytes in
    /// memory, or <see cref="ReopenableContent"/>.
    /// </summary>
    private static bool CanResend(HttpContent? content) =>
        content is null or ByteArrayContent or ReadOnlyMemoryContent or ReopenableContent;

    private async Task AttachKnownAsync(HttpRequestMessage request, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        if (request.Headers.Authorization is not null || _challenge is not { } challenge)
        {
            return;
        }

        if (challenge.IsBasic)
        {
            if (Basic(await GetCredentialAsync(cancellationToken).ConfigureAwait(false)) is { } basic)
            {
                request.Headers.Authorization = basic;
            }

            return;
        }

        if (scopes.Count == 0)
        {
            return;
        }

        // A token for the challenge's scope and the request's is what a 401 would have fetched; try that key.
        var token = _tokens.Value.Cached(challenge, RegistryScope.Merge(null, scopes));
        if (token is null && scopes.Count == 1 && scopes[0].EndsWith(":pull", StringComparison.Ordinal))
        {
            token = _tokens.Value.Cached(challenge, [scopes[0] + ",push"]);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    private async ValueTask<RegistryCredential?> GetCredentialAsync(CancellationToken cancellationToken)
    {
        if (_credentialLoaded)
        {
            return _credential;
        }

        await _credentialGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_credentialLoaded)
            {
                _credential = await Options.Credentials.GetAsync(Host, cancellationToken).ConfigureAwait(false);
                _credentialLoaded = true;
            }

            return _credential;
        }
        finally
        {
            _credentialGate.Release();
        }
    }
}
