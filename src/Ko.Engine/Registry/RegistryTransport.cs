using System.Net;
using System.Net.Security;

namespace Ko.Engine.Registry;

/// <summary>
/// Builds the one HTTP pipeline per registry host that DESIGN.md describes:
/// retry -> auth -> redirects -> <see cref="SocketsHttpHandler"/>. TLS is verified against the system store
/// (which honours <c>SSL_CERT_FILE</c>/<c>SSL_CERT_DIR</c>) unless the run is insecure.
/// </summary>
internal static class RegistryTransport
{
    public static HttpMessageHandler CreateHandler(string host, RegistryOptions options)
    {
        var sockets = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
        };
        if (options.Insecure)
        {
            sockets.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true };
        }

        return new RetryHandler(options)
        {
            InnerHandler = new AuthHandler(host, options)
            {
                InnerHandler = new RedirectHandler(options) { InnerHandler = sockets },
            },
        };
    }

    /// <summary><c>http://</c> for loopback hosts and insecure runs, <c>https://</c> otherwise.</summary>
    public static Uri BaseAddress(string host, RegistryOptions options) =>
        new($"{(options.Insecure || RegistryClient.IsLoopback(host) ? "http" : "https")}://{host}/");
}
