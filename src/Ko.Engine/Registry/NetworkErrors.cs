using System.Net.Sockets;
using System.Security.Authentication;

namespace Ko.Engine.Registry;

/// <summary>
/// Says in words of ours what went wrong on the network. The runtime's own messages are not used: with
/// <c>UseSystemResourceKeys</c> they are resource keys, and otherwise they vary by platform and version.
/// </summary>
internal static class NetworkErrors
{
    /// <summary>A clause such as "the connection was refused (nothing listens there)", for "…: {clause}.".</summary>
    public static string Describe(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException socket:
                    return Socket(socket.SocketErrorCode);
                case AuthenticationException:
                    return "the TLS handshake failed: the server's certificate is not trusted or does not name this host (for a private CA set SSL_CERT_FILE or SSL_CERT_DIR; for a registry without TLS use --insecure-registry)";
                case RegistryTimeoutException timeout:
                    return timeout.Message;
            }
        }

        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException http)
            {
                return http.HttpRequestError switch
                {
                    HttpRequestError.NameResolutionError => "the host name could not be resolved",
                    HttpRequestError.ConnectionError => "no connection could be made",
                    HttpRequestError.SecureConnectionError => "the TLS handshake failed (for a private CA set SSL_CERT_FILE or SSL_CERT_DIR; for a registry without TLS use --insecure-registry)",
                    HttpRequestError.HttpProtocolError or HttpRequestError.InvalidResponse => "the answer was not valid HTTP",
                    HttpRequestError.ResponseEnded => "the connection closed before the answer was complete",
                    HttpRequestError.ProxyTunnelError => "the HTTP proxy refused to connect to it (check HTTPS_PROXY / NO_PROXY)",
                    HttpRequestError.UserAuthenticationError => "the HTTP proxy asked for credentials",
                    HttpRequestError.ConfigurationLimitExceeded => "the answer's headers were larger than allowed",
                    HttpRequestError.VersionNegotiationError => "no HTTP version both sides speak could be agreed",
                    _ => "the request failed on the network",
                };
            }
        }

        return exception is IOException ? "the connection broke" : "the request failed on the network";
    }

    private static string Socket(SocketError code) => code switch
    {
        SocketError.ConnectionRefused => "the connection was refused (nothing listens on that port)",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "the host name could not be resolved",
        SocketError.TimedOut => "connecting timed out",
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown => "the connection was reset",
        SocketError.NetworkUnreachable or SocketError.HostUnreachable or SocketError.NetworkDown => "the network or the host is unreachable",
        _ => $"a network error occurred ({code})",
    };
}
