using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Ko.Engine.Registry.Auth;

/// <summary>
/// Gets Bearer tokens from a registry's token service (the Docker token flow): a GET with Basic credentials (or
/// anonymous), or the OAuth2 POST with <c>grant_type=refresh_token</c> when the credential is an identity token.
/// Tokens are cached by (realm, service, scopes) until shortly before they expire. The token service is called with
/// its own <see cref="HttpClient"/>, outside the registry pipeline, with the run's connect, response and idle
/// timeouts; its answer is read into memory up to <see cref="ResponseBody.MaxTokenBytes"/>. Redirects are followed
/// within the token service's own origin only (a refresh token in a POST body must not follow one elsewhere).
/// </summary>
internal sealed class TokenClient : IDisposable
{
    private const string ClientId = "koaddins";
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Expires)> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<string>> _inFlight = new(StringComparer.Ordinal);
    private const int MaxRedirects = 5;

    private readonly TimeProvider _time;
    private readonly RegistryOptions _options;

    public TokenClient(RegistryOptions options, TimeProvider? time = null)
    {
        _options = options;
        var handler = new SameOriginRedirects { InnerHandler = new TimeoutHandler(options) { InnerHandler = RegistryTransport.CreateSockets(options) } };
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _time = time ?? TimeProvider.System;
    }

    /// <summary>A cached, unexpired token for exactly these scopes, or null.</summary>
    public string? Cached(AuthChallenge challenge, IReadOnlyList<string> scopes) =>
        _cache.TryGetValue(Key(challenge, scopes), out var entry) && entry.Expires - ExpiryMargin > _time.GetUtcNow() ? entry.Token : null;

    /// <summary>
    /// A token for <paramref name="scopes"/> after a 401: the cached one when it is not the one the refused request
    /// carried (<paramref name="refused"/>), else a fresh one. Concurrent callers for the same key share one fetch.
    /// </summary>
    public async Task<string> GetAsync(AuthChallenge challenge, IReadOnlyList<string> scopes, string? refused, RegistryCredential? credential, string registryHost, CancellationToken cancellationToken)
    {
        var key = Key(challenge, scopes);
        while (true)
        {
            if (Cached(challenge, scopes) is { } cached && cached != refused)
            {
                return cached;
            }

            var mine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var flight = _inFlight.GetOrAdd(key, mine.Task);
            if (flight != mine.Task)
            {
                try
                {
                    var shared = await flight.WaitAsync(cancellationToken).ConfigureAwait(false);
                    if (shared != refused)
                    {
                        return shared;
                    }
                }
                catch (KoException)
                {
                    throw;
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // The other fetch failed for its own reasons (cancelled): fetch again.
                }

                continue;
            }

            try
            {
                var token = await FetchAsync(challenge, scopes, credential, registryHost, cancellationToken).ConfigureAwait(false);
                mine.SetResult(token);
                return token;
            }
            catch (Exception ex)
            {
                mine.SetException(ex);
                _ = mine.Task.Exception; // observed here; waiters see it too
                throw;
            }
            finally
            {
                _inFlight.TryRemove(new KeyValuePair<string, Task<string>>(key, mine.Task));
            }
        }
    }

    /// <summary>Asks the token service for a fresh token for <paramref name="scopes"/> and caches it.</summary>
    public async Task<string> FetchAsync(AuthChallenge challenge, IReadOnlyList<string> scopes, RegistryCredential? credential, string registryHost, CancellationToken cancellationToken)
    {
        if (!Util.SafeUri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm) || (realm.Scheme != Uri.UriSchemeHttps && realm.Scheme != Uri.UriSchemeHttp))
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"registry {registryHost} asked for a Bearer token from realm '{challenge.Realm}', which is not an http(s) URL; the registry's auth configuration is broken.");
        }

        using var request = credential?.IdentityToken is { Length: > 0 } identityToken
            ? RefreshTokenRequest(realm, challenge.Service, scopes, identityToken)
            : GetRequest(realm, challenge.Service, scopes, credential);

        var service = $"registry {registryHost}: the token service {realm.Authority}";
        using var response = await SendAsync(request, service, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw AuthHandler.Rejected(registryHost, credential, $"the token service {realm.Authority} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        if (!response.IsSuccessStatusCode)
        {
            var error = await ResponseBody.ReadErrorTextAsync(response, _options, cancellationToken).ConfigureAwait(false);
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"{service} answered {(int)response.StatusCode} {response.ReasonPhrase}: {RegistryClient.DescribeErrorBody(error)}.");
        }

        byte[] body;
        try
        {
            body = await ResponseBody.ReadAsync(response, ResponseBody.MaxTokenBytes, _options, "its token answer", cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"{service} broke off its answer: {ex.Message}.", ex);
        }

        var (token, expiresIn) = ParseTokenResponse(Encoding.UTF8.GetString(body))
            ?? throw new KoException(KoErrorCodes.AuthenticationFailed, $"{service} answered without a token.");
        _cache[Key(challenge, scopes)] = (token, _time.GetUtcNow() + expiresIn);
        return token;
    }

    /// <summary>
    /// Sends a token request, following redirects within the token service's origin only; network failures and
    /// timeouts become sentences (<see cref="KoErrorCodes.AuthenticationFailed"/>, <see cref="KoErrorCodes.RegistryTimeout"/>).
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string service, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryTimeoutException ex)
        {
            throw new KoException(KoErrorCodes.RegistryTimeout, $"{service} did not answer: {ex.Message}.", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"{service} could not be reached: {NetworkErrors.Describe(ex)}.", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KoException(KoErrorCodes.RegistryTimeout, $"{service} did not answer in time. Raise {RegistryOptions.ResponseTimeoutVariable} if it is just slow.", ex);
        }
    }

    /// <summary>The token (<c>token</c> or <c>access_token</c>) and its lifetime (<c>expires_in</c>, at least 60 s).</summary>
    internal static (string Token, TimeSpan ExpiresIn)? ParseTokenResponse(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            string? token = null;
            foreach (var name in new[] { "token", "access_token" })
            {
                if (root.TryGetProperty(name, out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } s)
                {
                    token = s;
                    break;
                }
            }

            if (token is null)
            {
                return null;
            }

            var seconds = root.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var n) ? n : 60;
            return (token, TimeSpan.FromSeconds(Math.Max(seconds, 60)));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _http.Dispose();

    private static HttpRequestMessage GetRequest(Uri realm, string? service, IReadOnlyList<string> scopes, RegistryCredential? credential)
    {
        var query = new List<string>();
        if (!string.IsNullOrEmpty(service))
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }

        query.AddRange(scopes.Select(s => "scope=" + Uri.EscapeDataString(s)));
        if (credential?.Username is { Length: > 0 } user && credential.Password is not null)
        {
            query.Add("account=" + Uri.EscapeDataString(user));
        }

        var builder = new UriBuilder(realm);
        var existing = builder.Query.TrimStart('?');
        builder.Query = string.Join('&', (existing.Length > 0 ? [existing] : Array.Empty<string>()).Concat(query));
        var request = new HttpRequestMessage(HttpMethod.Get, builder.Uri);
        if (AuthHandler.Basic(credential) is { } basic)
        {
            request.Headers.Authorization = basic;
        }

        return request;
    }

    private static HttpRequestMessage RefreshTokenRequest(Uri realm, string? service, IReadOnlyList<string> scopes, string identityToken)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "refresh_token"),
            new("refresh_token", identityToken),
            new("service", service ?? string.Empty),
            new("client_id", ClientId),
            new("scope", string.Join(' ', scopes)),
        };
        return new HttpRequestMessage(HttpMethod.Post, realm) { Content = new FormUrlEncodedContent(form) };
    }

    /// <summary>Follows a token service's redirects within its own origin; one elsewhere is an error.</summary>
    private sealed class SameOriginRedirects : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var origin = request.RequestUri!;
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            for (var hops = 0; hops < MaxRedirects && (int)response.StatusCode is 301 or 302 or 303 or 307 or 308; hops++)
            {
                Uri? target;
                try
                {
                    target = RedirectHandler.Target(origin.Authority, request, response);
                }
                catch
                {
                    response.Dispose();
                    throw;
                }

                if (target is null)
                {
                    return response;
                }

                response.Dispose();
                if (!RedirectHandler.SameOrigin(origin, target))
                {
                    throw new KoException(KoErrorCodes.AuthenticationFailed, $"the token service {origin.Authority} redirected to another host ({target.Authority}); ko does not follow a token request elsewhere.");
                }

                request.RequestUri = target;

                response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }

            return response;
        }
    }

    private static string Key(AuthChallenge challenge, IReadOnlyList<string> scopes) =>
        $"{challenge.Realm}\n{challenge.Service}\n{string.Join(' ', scopes.Order(StringComparer.Ordinal))}";
}
