using Cake.Core.IO;

namespace Cake.Ko;

/// <summary>How <see cref="KoAliases.KoVerify(Cake.Core.ICakeContext, IEnumerable{string}, KoVerifySettings)"/> checks signatures (<c>dotnet ko verify</c>).</summary>
public sealed class KoVerifySettings
{
    /// <summary>The public key (PEM <c>PUBLIC KEY</c>, e.g. <c>cosign.pub</c>); required.</summary>
    public FilePath? Key { get; set; }

    /// <summary>Also require a signed in-toto attestation (<c>.att</c>) about each image.</summary>
    public bool Attestations { get; set; }

    /// <summary>Plain HTTP and no TLS verification for the registries.</summary>
    public bool InsecureRegistry { get; set; }

    /// <summary>Variables added to (or, with a null value, removed from) the Cake context's environment, e.g. <c>DOCKER_CONFIG</c>.</summary>
    public IDictionary<string, string?> EnvironmentVariables { get; set; } = new Dictionary<string, string?>(StringComparer.Ordinal);
}
