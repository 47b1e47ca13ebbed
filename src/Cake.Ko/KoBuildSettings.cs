using Cake.Core.IO;

namespace Cake.Ko;

/// <summary>
/// How <see cref="KoAliases.KoBuild(Cake.Core.ICakeContext, string, KoBuildSettings)"/> builds and publishes images.
/// Unset values fall back to the <c>KO_*</c> variables of the Cake context's environment and to <c>.ko.yaml</c>, as
/// with <c>dotnet ko build</c>. Relative paths are resolved against the Cake context's working directory.
/// </summary>
public class KoBuildSettings
{
    /// <summary>The repository images are named under (the <c>KO_DOCKER_REPO</c> value), e.g. <c>registry.example/team</c>.</summary>
    public string? Repository { get; set; }

    /// <summary>Platforms (<c>os/arch[/variant]</c>) or <c>all</c>; empty means the build machine's (or <c>KO_DEFAULTPLATFORMS</c>).</summary>
    public ICollection<string> Platforms { get; set; } = new List<string>();

    /// <summary>Tags; empty means <c>latest</c>.</summary>
    public ICollection<string> Tags { get; set; } = new List<string>();

    /// <summary>Push to the repository's registry (default <c>true</c>, as ko); <c>false</c> builds without pushing.</summary>
    public bool Push { get; set; } = true;

    /// <summary>The base image: <c>embedded:static</c> (default), <c>scratch</c>, <c>oci:DIR[:REF]</c> or a registry reference.</summary>
    public string? BaseImage { get; set; }

    /// <summary>Write the images into this OCI image layout directory.</summary>
    public DirectoryPath? OciLayoutPath { get; set; }

    /// <summary>Write the images as an OCI layout inside one tar file.</summary>
    public FilePath? OciArchivePath { get; set; }

    /// <summary>Write a docker-archive tarball (for several platforms, the build machine's image).</summary>
    public FilePath? TarballPath { get; set; }

    /// <summary>Write the published references to this file, one a line.</summary>
    public FilePath? ImageRefsPath { get; set; }

    /// <summary>
    /// The SBOM made for every image (<c>--sbom</c>): SPDX 2.3 JSON (null, the default), CycloneDX 1.6 JSON, or none.
    /// Pushed images get it attached (see <see cref="SbomAttach"/>); OCI layouts and archives carry its blobs.
    /// </summary>
    public KoSbomFormat? Sbom { get; set; }

    /// <summary>Also write the SBOMs into this directory (<c>--sbom-dir</c>): <c>APP-OS-ARCH[-VARIANT].FORMAT.json</c> and <c>APP-index.FORMAT.json</c>.</summary>
    public DirectoryPath? SbomDirectory { get; set; }

    /// <summary>How pushed SBOMs are attached (<c>--sbom-attach</c>): an OCI 1.1 referrer (the default) or ko's <c>sha256-&lt;hex&gt;.sbom</c> tag.</summary>
    public KoSbomAttachment SbomAttach { get; set; }

    /// <summary>The directory Go runs in (the module's directory); default: the Cake context's working directory.</summary>
    public DirectoryPath? WorkingDirectory { get; set; }

    /// <summary>How many <c>go build</c>s run at once; 0 means the processor count.</summary>
    public int Jobs { get; set; }

    /// <summary>Name the image by the repository alone (<c>--bare</c>).</summary>
    public bool Bare { get; set; }

    /// <summary>Name the image <c>REPO/&lt;import path&gt;</c> (<c>--preserve-import-paths</c>).</summary>
    public bool PreserveImportPaths { get; set; }

    /// <summary>Name the image <c>REPO/&lt;base name&gt;</c> (<c>--base-import-paths</c>).</summary>
    public bool BaseImportPaths { get; set; }

    /// <summary>Return <c>name:tag</c> references instead of digest references (<c>--tag-only</c>).</summary>
    public bool TagOnly { get; set; }

    /// <summary>Load the images into the local docker daemon or podman instead of pushing (<c>--local</c>).</summary>
    public bool Local { get; set; }

    /// <summary>Plain HTTP and no TLS verification for registries (<c>--insecure-registry</c>).</summary>
    public bool InsecureRegistry { get; set; }

    /// <summary>Labels added to the image config.</summary>
    public IDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Annotations added to manifests and indexes.</summary>
    public IDictionary<string, string> Annotations { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The user the image runs as.</summary>
    public string? User { get; set; }

    /// <summary>Linker flags passed as one <c>-ldflags</c> argument, e.g. <c>-X main.version=1.2.3</c>.</summary>
    public ICollection<string> Ldflags { get; set; } = new List<string>();

    /// <summary>Extra <c>go build</c> flags, each one argument.</summary>
    public ICollection<string> BuildFlags { get; set; } = new List<string>();

    /// <summary>The ko cache directory; default: <c>KOCACHE</c>, else <c>~/.cache/ko</c>.</summary>
    public DirectoryPath? CacheDirectory { get; set; }

    /// <summary>
    /// Variables added to (or, with a null value, removed from) the Cake context's environment for this call only,
    /// e.g. <c>KO_DEFAULTBASEIMAGE</c>, <c>GOFLAGS</c>, <c>SOURCE_DATE_EPOCH</c>.
    /// </summary>
    public IDictionary<string, string?> EnvironmentVariables { get; set; } = new Dictionary<string, string?>(StringComparer.Ordinal);

    /// <summary>
    /// Sign every pushed image and index with this private key (cosign's encrypted format, the password from
    /// <c>KO_SIGN_PASSWORD</c>; or a PKCS#8 ECDSA P-256 PEM key), as <c>dotnet ko build --sign-key</c>. Null means
    /// <c>KO_SIGN_KEY</c>, else no signing.
    /// </summary>
    public FilePath? SignKey { get; set; }

    /// <summary>Annotations written into each signature's <c>optional</c> section (<c>--sign-annotation</c>).</summary>
    public IDictionary<string, string> SignAnnotations { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Also attach each SBOM as a signed in-toto attestation (<c>--attest-sbom</c>); needs a sign key.</summary>
    public bool AttestSbom { get; set; }
    /// <summary>How the kodata and binary layers are compressed (<c>--compression</c>): gzip (the default, as ko) or zstd (OCI <c>tar+zstd</c>; needs an OCI base image).</summary>
    public KoLayerCompression Compression { get; set; }
    // ---- build record (issue 15) ----

    /// <summary>
    /// <c>KoBuild</c>: write a JSON build record of the images to this file (<c>--build-record</c>): reference, digest,
    /// platforms with their digests, tags, SBOMs, base. <c>KoResolve</c>/<c>KoApply</c>/<c>KoCreate</c>: take the images
    /// from this record and build nothing, so a deploy task (or a later CI job) ships exactly what was published.
    /// </summary>
    public FilePath? BuildRecordPath { get; set; }
}

/// <summary>The SBOM format a build makes for every image (<see cref="KoBuildSettings.Sbom"/>).</summary>
public enum KoSbomFormat
{
    /// <summary>SPDX 2.3 JSON (<c>application/spdx+json</c>), the default.</summary>
    Spdx,

    /// <summary>CycloneDX 1.6 JSON (<c>application/vnd.cyclonedx+json</c>).</summary>
    CycloneDx,

    /// <summary>No SBOM.</summary>
    None,
}

/// <summary>How a pushed SBOM is attached to its image (<see cref="KoBuildSettings.SbomAttach"/>).</summary>
public enum KoSbomAttachment
{
    /// <summary>An OCI 1.1 artifact whose <c>subject</c> is the image, found through the referrers API (and the referrers tag schema). The default.</summary>
    Referrers,

    /// <summary>ko's layout: the artifact is tagged <c>sha256-&lt;hex&gt;.sbom</c>.</summary>
    Tag,
}
