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
/// its own <see cref="HttpClient"/>, outside the registry pipeline.
/// </summary>
internal sealed class TokenClient : IDisposable
{
    private const string ClientId = "koaddins";
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Expires)> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<string>> _inFlight = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public TokenClient(RegistryOptions options, TimeProvider? time = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(30),
            SslOptions = RegistryTransport.CreateSslOptions(options),
            AllowAutoRedirect = true, // .NET drops Authorization when a redirect leaves the origin.
        };
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = TimeSpan.FromSeconds(60) };
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
        if (!Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm) || (realm.Scheme != Uri.UriSchemeHttps && realm.Scheme != Uri.UriSchemeHttp))
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"registry {registryHost} asked for a Bearer token from realm '{challenge.Realm}', which is not an http(s) URL; the registry's auth configuration is broken.");
        }

        using var request = credential?.IdentityToken is { Length: > 0 } identityToken
            ? RefreshTokenRequest(realm, challenge.Service, scopes, identityToken)
            : GetRequest(realm, challenge.Service, scopes, credential);

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"registry {registryHost}: the token service {realm.GetLeftPart(UriPartial.Authority)} could not be reached: {ex.Message}.", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"registry {registryHost}: the token service {realm.GetLeftPart(UriPartial.Authority)} did not answer in time.", ex);
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw AuthHandler.Rejected(registryHost, credential, $"the token service {realm.GetLeftPart(UriPartial.Authority)} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new KoException(KoErrorCodes.AuthenticationFailed, $"registry {registryHost}: the token service {realm.GetLeftPart(UriPartial.Authority)} answered {(int)response.StatusCode} {response.ReasonPhrase}: {RegistryClient.DescribeErrorBody(body)}.");
            }

            var (token, expiresIn) = ParseTokenResponse(body)
                ?? throw new KoException(KoErrorCodes.AuthenticationFailed, $"registry {registryHost}: the token service {realm.GetLeftPart(UriPartial.Authority)} answered without a token.");
            _cache[Key(challenge, scopes)] = (token, _time.GetUtcNow() + expiresIn);
            return token;
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

    private static string Key(AuthChallenge challenge, IReadOnlyList<string> scopes) =>
        $"{challenge.Realm}\n{challenge.Service}\n{string.Join(' ', scopes.Order(StringComparer.Ordinal))}";
}
