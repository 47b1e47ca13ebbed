using Ko.Engine.Publishing;

namespace Ko.Engine.Configuration;

/// <summary>
/// What a caller (CLI, Cake, NUKE) asks the engine to build. Unset values fall back to <c>KO_*</c> variables of
/// <see cref="Environment"/> and then to ko's defaults; <see cref="BuildPlan"/> decides all precedence.
/// </summary>
public sealed record KoBuildOptions
{
    /// <summary>Import paths to build: <c>./cmd/app</c>, <c>example.com/mod/cmd/app</c> or <c>ko://example.com/mod/cmd/app</c>.</summary>
    public IReadOnlyList<string> ImportPaths { get; init; } = [];

    /// <summary>The directory Go runs in (the module's directory); defaults to the current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Platforms (<c>os/arch[/variant]</c>, comma lists allowed) or <c>all</c>; empty means the build machine's.</summary>
    public IReadOnlyList<string> Platforms { get; init; } = [];

    /// <summary>The base image: <c>embedded:static</c> (default), <c>scratch</c>, <c>oci:DIR[:TAG]</c>. Overrides <c>KO_DEFAULTBASEIMAGE</c>.</summary>
    public string? BaseImage { get; init; }

    /// <summary>The repository images are named under (the <c>KO_DOCKER_REPO</c> value); overrides the variable.</summary>
    public string? Repository { get; init; }

    /// <summary>Tags; default <c>latest</c>. Comma lists are split.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Print and write only <c>name:tag</c> references (ko's <c>--tag-only</c>).</summary>
    public bool TagOnly { get; init; }

    /// <summary>Push to the repository's registry (ko's default); false builds locally only.</summary>
    public bool Push { get; init; } = true;

    /// <summary>
    /// Load the images into the local docker daemon (when it answers) or podman instead of pushing, as ko's
    /// <c>--local</c>: names go under <c>ko.local</c>, each image is tagged <c>name:&lt;digest hex&gt;</c> and with every
    /// tag. A repository starting with <c>ko.local</c> means the same when pushing.
    /// </summary>
    public bool Local { get; init; }

    /// <summary>Use plain HTTP and skip TLS verification for registries (ko's <c>--insecure-registry</c>).</summary>
    public bool InsecureRegistry { get; init; }

    /// <summary>How image names derive from import paths.</summary>
    public NamingStrategy Naming { get; init; } = NamingStrategy.Md5;

    /// <summary>Write the images into this OCI image layout directory.</summary>
    public string? OciLayoutPath { get; init; }

    /// <summary>Write the images as an OCI layout inside one tar file.</summary>
    public string? OciArchivePath { get; init; }

    /// <summary>Write a docker-archive tarball (for several platforms, the build machine's one).</summary>
    public string? TarballPath { get; init; }

    /// <summary>Write the printed references to this file, one a line.</summary>
    public string? ImageRefsPath { get; init; }

    /// <summary>
    /// The SBOM made for every image: SPDX 2.3 JSON (null, the default), CycloneDX 1.6 JSON, or none. Pushed images get
    /// it attached (see <see cref="SbomAttach"/>); OCI layouts and archives carry its blobs.
    /// </summary>
    public Sbom.SbomFormat? Sbom { get; init; }

    /// <summary>Write the SBOMs into this directory: <c>APP-OS-ARCH[-VARIANT].FORMAT.json</c> and <c>APP-index.FORMAT.json</c>.</summary>
    public string? SbomDirectory { get; init; }

    /// <summary>How pushed SBOMs are attached: an OCI 1.1 referrer (default) or ko's <c>sha256-&lt;hex&gt;.sbom</c> tag.</summary>
    public Sbom.SbomAttachment SbomAttach { get; init; }

    /// <summary>Labels added to the image config.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>Annotations added to manifests and indexes.</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();

    /// <summary>The user the image runs as.</summary>
    public string? User { get; init; }

    /// <summary>Extra <c>go build</c> flags (each one argument).</summary>
    public IReadOnlyList<string> BuildFlags { get; init; } = [];

    /// <summary>Linker flags passed as one <c>-ldflags</c> argument.</summary>
    public IReadOnlyList<string> Ldflags { get; init; } = [];

    /// <summary>How many builds run at once; 0 means the processor count.</summary>
    public int Jobs { get; init; }

    /// <summary>The cache directory; defaults to <c>KOCACHE</c>, else <c>~/.cache/ko</c>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>The environment the build sees (Go's variables, <c>KO_*</c>, <c>SOURCE_DATE_EPOCH</c>); null means the process's.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>
    /// Sign every pushed image and index with this private key file (cosign's encrypted format, password from
    /// <c>KO_SIGN_PASSWORD</c>; or a plain PKCS#8 ECDSA P-256 PEM key). Null means <c>KO_SIGN_KEY</c>, else no signing.
    /// </summary>
    public string? SignKey { get; init; }

    /// <summary>Annotations written into each signature's <c>optional</c> section (cosign's <c>-a key=value</c>).</summary>
    public IReadOnlyDictionary<string, string> SignAnnotations { get; init; } = new Dictionary<string, string>();

    /// <summary>Also attach each image's SBOM as a signed in-toto attestation (<c>.att</c>, as cosign's <c>attest</c>); needs a sign key.</summary>
    public bool AttestSbom { get; init; }

    /// <summary>How the kodata and binary layers are compressed: gzip (default, as ko) or zstd (OCI <c>tar+zstd</c>; needs an OCI base image).</summary>
    public Layers.LayerCompression Compression { get; init; }

    /// <summary>
    /// Write a JSON build record of the images to this file (atomically): per import path the reference, digest, media
    /// type, each platform's digest, tags, SBOM references and the base. <c>resolve</c>/<c>apply</c>/<c>create</c>
    /// take images from it (<see cref="KoResolveOptions.BuildRecordPath"/>) instead of building.
    /// </summary>
    public string? BuildRecordPath { get; init; }
}
