namespace Ko.Engine.Configuration;

/// <summary>What <see cref="KoEngine.PushAsync"/> publishes and where: an image or index built earlier, to a registry.</summary>
public sealed record KoPushOptions
{
    /// <summary>
    /// The image to publish: <c>oci:DIR[:REF]</c>, <c>oci-archive:FILE[:REF]</c>, <c>docker-archive:FILE[:NAME:TAG]</c>
    /// or a registry reference. REF is the layout entry's <c>org.opencontainers.image.ref.name</c> (e.g.
    /// <c>ko.local/app-…:latest</c>); without it the layout must hold one image or index.
    /// </summary>
    public required string Source { get; init; }

    /// <summary>The image name to push to (<c>REGISTRY/REPOSITORY</c>, no tag); null names it under <see cref="Repository"/>.</summary>
    public string? To { get; init; }

    /// <summary>The repository (<c>KO_DOCKER_REPO</c> when null): the image is pushed to REPOSITORY/&lt;last component of the name the source stores&gt;, as a build names it.</summary>
    public string? Repository { get; init; }

    /// <summary>Push to the repository itself (<c>--bare</c>), not to a name under it.</summary>
    public bool Bare { get; init; }

    /// <summary>Tags to set; empty means <c>latest</c>.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Plain HTTP and no TLS verification for the registries involved.</summary>
    public bool InsecureRegistry { get; init; }

    /// <summary>How the SBOM artifacts stored beside the image in a layout or archive are attached.</summary>
    public Sbom.SbomAttachment SbomAttach { get; init; }

    /// <summary>Also write the printed reference, then the SBOM artifacts' references, one a line, to this file (atomically).</summary>
    public string? ImageRefsPath { get; init; }

    /// <summary>Where relative source paths start; null means the current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The environment (<c>KO_DOCKER_REPO</c>, <c>DOCKER_CONFIG</c>, registry timeouts…); null means the process's.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>
    /// Sign the pushed index and every platform image with this private key (as a build's <c>--sign-key</c>; password
    /// from <c>KO_SIGN_PASSWORD</c>); null means <c>KO_SIGN_KEY</c>, else no signing. Relative to <see cref="WorkingDirectory"/>.
    /// </summary>
    public string? SignKey { get; init; }

    /// <summary>Annotations written into each signature's <c>optional</c> section.</summary>
    public IReadOnlyDictionary<string, string> SignAnnotations { get; init; } = new Dictionary<string, string>();

    /// <summary>Also attest each SBOM stored beside the image as a signed in-toto statement (needs a sign key and SBOMs).</summary>
    public bool AttestSbom { get; init; }
}
