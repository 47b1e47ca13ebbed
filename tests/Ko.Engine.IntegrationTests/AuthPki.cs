using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// A throw-away certificate authority made by the test: a CA, a TLS server certificate for 127.0.0.1 and localhost,
/// and a token-signing certificate, all signed by the CA and written as PEM files.
/// </summary>
public sealed class AuthPki : IDisposable
{
    public AuthPki(string directory)
    {
        Directory.CreateDirectory(directory);
        var now = DateTimeOffset.UtcNow;
        CaKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=KoAddins test CA", CaKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        Ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        ServerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", ServerKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        Server = serverRequest.Create(Ca, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(8));

        SigningKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signingRequest = new CertificateRequest("CN=KoAddins test token issuer", SigningKey, HashAlgorithmName.SHA256);
        signingRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        signingRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        Signing = signingRequest.Create(Ca, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(8));

        CaFile = Path.Combine(directory, "ca.pem");
        File.WriteAllText(CaFile, Ca.ExportCertificatePem() + "\n");
        ServerCertFile = Path.Combine(directory, "server.pem");
        File.WriteAllText(ServerCertFile, Server.ExportCertificatePem() + "\n");
        ServerKeyFile = Path.Combine(directory, "server.key");
        File.WriteAllText(ServerKeyFile, ServerKey.ExportPkcs8PrivateKeyPem() + "\n");

        // skopeo's --cert-dir takes CAs as *.crt files.
        CertDir = Path.Combine(directory, "certs.d");
        Directory.CreateDirectory(CertDir);
        File.Copy(CaFile, Path.Combine(CertDir, "ca.crt"));
    }

    public ECDsa CaKey { get; }

    public X509Certificate2 Ca { get; }

    public ECDsa ServerKey { get; }

    public X509Certificate2 Server { get; }

    public ECDsa SigningKey { get; }

    public X509Certificate2 Signing { get; }

    public string CaFile { get; }

    public string ServerCertFile { get; }

    public string ServerKeyFile { get; }

    public string CertDir { get; }

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
        Signing.Dispose();
        CaKey.Dispose();
        ServerKey.Dispose();
        SigningKey.Dispose();
    }
}
