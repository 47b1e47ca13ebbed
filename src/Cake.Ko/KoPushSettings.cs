using Cake.Core.IO;

namespace Cake.Ko;

/// <summary>Where <see cref="KoAliases.KoPush(Cake.Core.ICakeContext, string, KoPushSettings?)"/> publishes an image built earlier.</summary>
public sealed class KoPushSettings
{
    /// <summary>The image name to push to (<c>REGISTRY/REPOSITORY</c>); null means <c>Repository/&lt;the name's last component in the source&gt;</c>.</summary>
    public string? To { get; set; }

    /// <summary>The repository to push under; null means <c>KO_DOCKER_REPO</c>.</summary>
    public string? Repository { get; set; }

    /// <summary>Push to the repository itself, not to a name under it (<c>--bare</c>).</summary>
    public bool Bare { get; set; }

    /// <summary>Tags to set; empty means <c>latest</c>.</summary>
    public IList<string> Tags { get; set; } = [];

    /// <summary>Plain HTTP and no TLS verification for the registries.</summary>
    public bool InsecureRegistry { get; set; }

    /// <summary>How the SBOMs stored beside the image are attached: an OCI 1.1 referrer (the default) or ko's <c>.sbom</c> tag.</summary>
    public KoSbomAttachment SbomAttach { get; set; }

    /// <summary>Also write the printed reference (and the SBOMs' references) to this file (<c>--image-refs</c>).</summary>
    public FilePath? ImageRefsPath { get; set; }

    /// <summary>
    /// Sign the pushed index and each image with this private key, as <see cref="KoBuildSettings.SignKey"/> does
    /// (<c>--sign-key</c>; password from <c>KO_SIGN_PASSWORD</c>); null means <c>KO_SIGN_KEY</c>, else no signing.
    /// </summary>
    public FilePath? SignKey { get; set; }

    /// <summary>Annotations written into each signature's <c>optional</c> section (<c>--sign-annotation</c>).</summary>
    public IDictionary<string, string> SignAnnotations { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Also attest each SBOM stored beside the image as a signed in-toto statement (<c>--attest-sbom</c>); needs a sign key.</summary>
    public bool AttestSbom { get; set; }

    /// <summary>Variables added to (or, with a null value, removed from) the Cake context's environment, e.g. <c>DOCKER_CONFIG</c>.</summary>
    public IDictionary<string, string?> EnvironmentVariables { get; set; } = new Dictionary<string, string?>(StringComparer.Ordinal);
}
