using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Ko.Engine.Registry;

/// <summary>
/// Builds the one HTTP pipeline per registry host: retry -> redirects -> auth -> (loopback TLS detection) ->
/// timeouts -> <see cref="SocketsHttpHandler"/>. Redirects sit above authentication so that each hop is checked on
/// its own URL: the registry's credentials are attached, and its challenges answered, only for the registry's own
/// origin (see <see cref="AuthHandler"/>); every other host is spoken to anonymously. TLS is verified against
/// the system store and, when the run's environment names them, the CAs in <c>SSL_CERT_FILE</c> /
/// <c>SSL_CERT_DIR</c>; an insecure run accepts any certificate.
/// </summary>
internal static class RegistryTransport
{
    public static HttpMessageHandler CreateHandler(string host, RegistryOptions options)
    {
        var probe = !options.Insecure && RegistryClient.IsLoopback(host) ? new LoopbackTlsProbe() : null;
        HttpMessageHandler inner = new TimeoutHandler(options) { InnerHandler = CreateSockets(options) };
        if (probe is not null)
        {
            inner = new LoopbackTlsHandler(probe, BaseAddress(host, options).Authority, options) { InnerHandler = inner };
        }

        return new RetryHandler(options)
        {
            InnerHandler = new RedirectHandler(host, options)
            {
                InnerHandler = new AuthHandler(host, options) { InnerHandler = inner },
            },
        };
    }

    /// <summary>The sockets handler: no automatic redirects or decompression, the run's TLS trust and connect timeout.</summary>
    internal static SocketsHttpHandler CreateSockets(RegistryOptions options) => new()
    {
        AllowAutoRedirect = false,
        ConnectTimeout = options.ConnectTimeout,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AutomaticDecompression = DecompressionMethods.None,
        SslOptions = CreateSslOptions(options),
    };

    /// <summary><c>http://</c> for loopback hosts and insecure runs, <c>https://</c> otherwise.</summary>
    public static Uri BaseAddress(string host, RegistryOptions options) =>
        new($"{(options.Insecure || RegistryClient.IsLoopback(host) ? "http" : "https")}://{host}/");

    /// <summary>
    /// TLS settings for registry and token-service connections: anything goes when insecure; otherwise the system's
    /// validation, and a certificate the system does not trust is accepted when it chains to a CA from the
    /// environment's <c>SSL_CERT_FILE</c> or <c>SSL_CERT_DIR</c> (the host name must still match).
    /// </summary>
    public static SslClientAuthenticationOptions CreateSslOptions(RegistryOptions options)
    {
        if (options.Insecure)
        {
            return new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true };
        }

        // Read only when a certificate needs them: parsing a whole CA bundle costs more than a no-op push, and
        // SSL_CERT_FILE often just names the system bundle.
        var extra = new Lazy<X509Certificate2Collection>(() => LoadCustomRoots(options.Environment));
        return new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                if (errors == SslPolicyErrors.None)
                {
                    return true;
                }

                if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null || extra.Value.Count == 0)
                {
                    return false;
                }

                return ChainsTo(certificate, chain, extra.Value);
            },
        };
    }

    /// <summary>The certificates in <c>SSL_CERT_FILE</c> and in the directories of <c>SSL_CERT_DIR</c> (colon separated).</summary>
    internal static X509Certificate2Collection LoadCustomRoots(IReadOnlyDictionary<string, string?> environment)
    {
        var roots = new X509Certificate2Collection();
        if (environment.TryGetValue("SSL_CERT_FILE", out var file) && !string.IsNullOrEmpty(file) && File.Exists(file))
        {
            TryImport(roots, file);
        }

        if (environment.TryGetValue("SSL_CERT_DIR", out var dirs) && !string.IsNullOrEmpty(dirs))
        {
            foreach (var dir in dirs.Split(':', StringSplitOptions.RemoveEmptyEntries).Where(Directory.Exists))
            {
                foreach (var path in Directory.EnumerateFiles(dir))
                {
                    TryImport(roots, path);
                }
            }
        }

        return roots;
    }

    private static void TryImport(X509Certificate2Collection roots, string path)
    {
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            // Not a PEM bundle (or unreadable): the other sources still count.
        }
    }

    private static bool ChainsTo(X509Certificate certificate, X509Chain? presented, X509Certificate2Collection roots)
    {
        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")); // server auth
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(leaf);
    }

    private static bool IsResendable(this HttpContent? content) =>
        content is null or ByteArrayContent or ReadOnlyMemoryContent or ReopenableContent;

    /// <summary>What the pipeline learnt about a loopback registry: whether it speaks TLS.</summary>
    private sealed class LoopbackTlsProbe
    {
        /// <summary>0 unknown, 1 https, 2 plain http.</summary>
        public volatile int State;
    }

    /// <summary>
    /// Loopback registries are spoken to in plain HTTP, as ko does, unless they turn out to speak TLS: the first
    /// plain request answered 400 "...HTTP request to an HTTPS server" (Go, the registry's language) or "...plain
    /// HTTP request was sent to HTTPS port" (nginx) switches this host to <c>https</c>, verified as any other, and
    /// the request is sent again. A plain server never receives TLS bytes, so nothing hangs on a handshake.
    /// </summary>
    private sealed class LoopbackTlsHandler(LoopbackTlsProbe probe, string authority, RegistryOptions options) : DelegatingHandler
    {
        private const int MaxProbeBody = 64 * 1024;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            // What was learnt about the registry says nothing about another host a redirect leads to.
            var uri = request.RequestUri!;
            if (uri.Scheme != Uri.UriSchemeHttp || probe.State == 2 || !string.Equals(uri.Authority, authority, StringComparison.OrdinalIgnoreCase))
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }

            var https = new UriBuilder(uri) { Scheme = Uri.UriSchemeHttps, Port = uri.Port }.Uri;
            if (probe.State == 1)
            {
                request.RequestUri = https;
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }

            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.BadRequest)
            {
                probe.State = 2;
                return response;
            }

            // A HEAD's 400 carries no body to read the reason from: ask GET /v2/ in plain HTTP once.
            if (!request.Content.IsResendable() || !await SpeaksTlsAsync(uri, cancellationToken).ConfigureAwait(false))
            {
                return response;
            }

            response.Dispose();
            probe.State = 1;
            request.RequestUri = https;
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        private async Task<bool> SpeaksTlsAsync(Uri uri, CancellationToken cancellationToken)
        {
            using var ping = new HttpRequestMessage(HttpMethod.Get, new Uri(uri, "/v2/"));
            try
            {
                using var answer = await base.SendAsync(ping, cancellationToken).ConfigureAwait(false);
                if (answer.StatusCode != HttpStatusCode.BadRequest)
                {
                    return false;
                }

                var body = System.Text.Encoding.UTF8.GetString(await ResponseBody.ReadAsync(answer, MaxProbeBody, options, "an answer to a plain-HTTP probe", cancellationToken).ConfigureAwait(false));
                return body.Contains("HTTPS", StringComparison.OrdinalIgnoreCase);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or RegistryTimeoutException or KoException)
            {
                return false;
            }
        }
    }
}
