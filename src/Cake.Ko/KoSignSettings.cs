using Cake.Core.IO;

namespace Cake.Ko;

/// <summary>How <see cref="KoAliases.KoSign(Cake.Core.ICakeContext, IEnumerable{string}, KoSignSettings)"/> signs images already in a registry (<c>dotnet ko sign</c>).</summary>
public sealed class KoSignSettings
{
    /// <summary>The private key: cosign's encrypted format or a PKCS#8 ECDSA P-256 PEM; null means <c>KO_SIGN_KEY</c>.</summary>
    public FilePath? Key { get; set; }

    /// <summary>The encrypted key's password when <c>KO_SIGN_PASSWORD</c> is not set (that variable wins, as for builds). Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>Written into each signature's <c>optional</c> section (<c>--sign-annotation k=v</c>).</summary>
    public IDictionary<string, string> SignAnnotations { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>For an index, also sign each platform image in it.</summary>
    public bool Recursive { get; set; }

    /// <summary>Also attest each attached SBOM as a signed in-toto statement (<c>.att</c>).</summary>
    public bool AttestSbom { get; set; }

    /// <summary>Plain HTTP and no TLS verification for the registries.</summary>
    public bool InsecureRegistry { get; set; }

    /// <summary>Variables added to (or, with a null value, removed from) the Cake context's environment, e.g. <c>DOCKER_CONFIG</c>.</summary>
    public IDictionary<string, string?> EnvironmentVariables { get; set; } = new Dictionary<string, string?>(StringComparer.Ordinal);

    /// <summary>Never shows the password.</summary>
    public override string ToString() => $"KoSignSettings {{ Key = {Key}, Password = ***, Recursive = {Recursive}, AttestSbom = {AttestSbom} }}";
}
